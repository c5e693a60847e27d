import { useContext, useState } from 'preact/hooks';
import { api, ago } from '../api.js';
import { ConfirmButton, ErrorNote, Table, useLoad } from '../components.js';
import { StatusNote, useNotedAction } from '../noted-action.js';
import { PasswordField } from '../password-field.js';
import { MeContext } from '../me.js';
import { Account } from './account.js';

interface Admin {
  id: number;
  email: string;
  created_at: string;
  two_factor: boolean;
  sessions: number;
}

/**
 * The admins who may sign in: add one with a first password, remove one (the last never: the API refuses,
 * and the button is not offered); below, the signed-in admin's own password and two-factor sign-in.
 */
export function Admins() {
  const me = useContext(MeContext);
  const { data, error, reload } = useLoad(() => api<{ admins: Admin[] }>('GET', '/api/admins'), []);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { err, note, run } = useNotedAction();
  const add = (e: Event) => {
    e.preventDefault();
    return run(async () => {
      const made = await api<Admin>('POST', '/api/admins', { email, password });
      setEmail('');
      setPassword('');
      reload();
      return `${made.email} can sign in now.`;
    });
  };
  const remove = (a: Admin) =>
    run(async () => {
      await api('DELETE', `/api/admins/${a.id}`);
      reload();
      return `${a.email} was removed.`;
    });
  const admins = data?.admins ?? [];
  return (
    <main>
      <h1>Admins</h1>
      <ErrorNote error={err ?? error} />
      <StatusNote note={note} />
      <Table label="Admins table" head={['Email', 'Two-factor', 'Sessions', 'Added', '']} cards>
        {admins.map((a) => (
          <tr key={a.id}>
            <td>
              {a.email}
              {me?.email === a.email ? <span class="muted"> (you)</span> : null}
            </td>
            <td>
              <span class="card-label">Two-factor: </span>
              {a.two_factor ? 'on' : 'off'}
            </td>
            <td>
              <span class="card-label">Sessions: </span>
              {a.sessions}
            </td>
            <td>
              <span class="card-label">Added </span>
              {ago(a.created_at)}
            </td>
            <td>
              <ConfirmButton
                label="Remove"
                danger
                hidden={admins.length <= 1}
                question={`Remove ${a.email}? Its sessions and the tokens it made end.`}
                onConfirm={() => void remove(a)}
              />
            </td>
          </tr>
        ))}
      </Table>
      <h2>Add an admin</h2>
      <form class="form" onSubmit={add}>
        <div class="three">
          <label>
            Email{' '}
            <input
              type="email"
              value={email}
              autocomplete="off"
              onInput={(e) => setEmail(e.currentTarget.value)}
              required
            />
          </label>
          <PasswordField label="First password" value={password} onValue={setPassword} kind="new" required />
        </div>
        <button type="submit">Add admin</button>
      </form>
      {me?.kind === 'session' ? <Account onChange={reload} /> : null}
    </main>
  );
}
