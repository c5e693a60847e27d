import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ErrorNote, useLoad } from '../components.js';

/**
 * The API reference, drawn here from the daemon's own OpenAPI document: no
 * CDN, no script from elsewhere, the dashboard's CSP. Each operation with its
 * id, scope of parameters, body and answers; schemas by name.
 */
interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  $ref?: string;
  description?: string;
  anyOf?: Schema[];
  oneOf?: Schema[];
  additionalProperties?: Schema | boolean;
}
interface Param {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Schema;
}
interface Operation {
  operationId: string;
  summary?: string;
  tags?: string[];
  parameters?: Param[];
  requestBody?: { content: Record<string, { schema?: Schema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema?: Schema }> }>;
}
interface Doc {
  info: { title: string; version: string; description?: string; license?: { name: string } };
  servers?: Array<{ url: string }>;
  tags?: Array<{ name: string; description?: string }>;
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

const typeOf = (s: Schema | undefined): string => {
  if (!s) return 'any';
  if (s.$ref) return s.$ref.split('/').pop()!;
  if (s.enum) return s.enum.map((e) => JSON.stringify(e)).join(' | ');
  if (s.anyOf ?? s.oneOf) return (s.anyOf ?? s.oneOf)!.map(typeOf).join(' | ');
  if (s.type === 'array') return `${typeOf(s.items)}[]`;
  if (s.type === 'object' && s.properties)
    return `{ ${Object.entries(s.properties)
      .map(([k, v]) => `${k}${s.required?.includes(k) ? '' : '?'}: ${typeOf(v)}`)
      .join(', ')} }`;
  return Array.isArray(s.type) ? s.type.join(' | ') : (s.type ?? 'any');
};

export function Docs() {
  const { data: doc, error } = useLoad(() => api<Doc>('GET', '/api/openapi.json'), []);
  const [q, setQ] = useState('');
  if (!doc)
    return (
      <main>
        <h1>API reference</h1>
        <ErrorNote error={error} />
        {error ? null : <p class="muted">Loading…</p>}
      </main>
    );
  const ops = Object.entries(doc.paths).flatMap(([p, methods]) =>
    Object.entries(methods).map(([m, op]) => ({ path: p, method: m.toUpperCase(), op })),
  );
  const needle = q.toLowerCase();
  const shown = ops.filter(
    (o) => !needle || `${o.method} ${o.path} ${o.op.operationId} ${o.op.summary ?? ''}`.toLowerCase().includes(needle),
  );
  const tags = doc.tags ?? [];
  return (
    <main class="docs">
      <h1>API reference</h1>
      <p>
        {doc.info.title} {doc.info.version}. {doc.info.description} Every call takes{' '}
        <code>Authorization: Bearer &lt;token&gt;</code>. The document itself:{' '}
        <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1
        {doc.info.license ? `, ${doc.info.license.name}` : ''}).
      </p>
      <label class="inline">
        Find{' '}
        <input
          type="search"
          value={q}
          onInput={(e) => setQ(e.currentTarget.value)}
          placeholder="apps, upgrade, getAppsByName…"
        />
      </label>
      {tags.map((t) => {
        const mine = shown.filter((o) => o.op.tags?.includes(t.name));
        if (mine.length === 0) return null;
        return (
          <section key={t.name}>
            <h2>
              {t.name} <span class="muted">{t.description}</span>
            </h2>
            {mine.map((o) => (
              <details key={o.op.operationId} class="op" id={o.op.operationId}>
                <summary>
                  <code class={`method m-${o.method.toLowerCase()}`}>{o.method}</code> <code>{o.path}</code>{' '}
                  <span>{o.op.summary}</span>
                </summary>
                <p class="muted">
                  operationId <code>{o.op.operationId}</code>
                </p>
                {o.op.parameters?.length ? (
                  <table>
                    <thead>
                      <tr>
                        <th>Parameter</th>
                        <th>In</th>
                        <th>Type</th>
                        <th>About</th>
                      </tr>
                    </thead>
                    <tbody>
                      {o.op.parameters.map((p) => (
                        <tr key={`${p.in}:${p.name}`}>
                          <td>
                            <code>{p.name}</code>
                            {p.required ? ' *' : ''}
                          </td>
                          <td>{p.in}</td>
                          <td>
                            <code>{typeOf(p.schema)}</code>
                          </td>
                          <td>{p.description ?? p.schema?.description ?? ''}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                ) : null}
                {o.op.requestBody
                  ? Object.entries(o.op.requestBody.content).map(([type, c]) => (
                      <p key={type}>
                        Body ({type}): <code class="wrap">{typeOf(c.schema)}</code>
                      </p>
                    ))
                  : null}
                <ul class="list">
                  {Object.entries(o.op.responses).map(([status, r]) => (
                    <li key={status}>
                      <strong>{status}</strong> {r.description}
                      {r.content?.['application/json']?.schema ? (
                        <>
                          {' '}
                          — <code class="wrap">{typeOf(r.content['application/json'].schema)}</code>
                        </>
                      ) : null}
                    </li>
                  ))}
                </ul>
              </details>
            ))}
          </section>
        );
      })}
      <h2>Schemas</h2>
      {Object.entries(doc.components?.schemas ?? {}).map(([name, s]) => (
        <details key={name} class="op" id={`schema-${name}`}>
          <summary>
            <code>{name}</code>
          </summary>
          <code class="wrap">{typeOf({ ...s, $ref: undefined })}</code>
        </details>
      ))}
    </main>
  );
}
