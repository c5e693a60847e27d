/** The fewest characters a new password may have: the API's rule (contract/admins.ts), asked in the form first. */
export const PASSWORD_MIN = 10;

/**
 * A labelled password input. `kind` says which password it is, for the browser's password manager and for the
 * rule: a new one must have PASSWORD_MIN characters, the current one is asked as it is.
 */
export function PasswordField(props: {
  label: string;
  value: string;
  onValue: (value: string) => void;
  kind: 'current' | 'new';
  required?: boolean;
}) {
  return (
    <label>
      {props.label}{' '}
      <input
        type="password"
        value={props.value}
        autocomplete={props.kind === 'new' ? 'new-password' : 'current-password'}
        minLength={props.kind === 'new' ? PASSWORD_MIN : undefined}
        onInput={(e) => props.onValue(e.currentTarget.value)}
        required={props.required}
      />
    </label>
  );
}
