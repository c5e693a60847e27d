import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';

/**
 * Secrets the store keeps but must be able to read again (an admin's TOTP key): AES-256-GCM under a
 * key of its own in a 0600 file beside the store (the daemon's data directory, 0700), made on first
 * use. A copy of the database alone (a backup of it, a stray dump) does not give the secrets away.
 * Sealed text: `v1.<iv>.<tag>.<ciphertext>`, base64url; `aad` binds it to its row (a sealed secret
 * moved to another admin's row does not open).
 */
export function createSecretBox(keyFile: string) {
  let key: Promise<Buffer> | null = null;
  const load = async (): Promise<Buffer> => {
    const made = randomBytes(32);
    await writeFile(keyFile, made, { mode: 0o600, flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
    const k = await readFile(keyFile);
    if (k.length !== 32) throw new Error(`${keyFile} is not a 32-byte key`);
    return k;
  };
  const keyOf = () =>
    (key ??= load().catch((e: unknown) => {
      key = null;
      throw e;
    }));

  return {
    async seal(plain: Buffer, aad: string): Promise<string> {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', await keyOf(), iv);
      c.setAAD(Buffer.from(aad));
      const body = Buffer.concat([c.update(plain), c.final()]);
      return ['v1', iv, c.getAuthTag(), body]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join('.');
    },
    async open(sealed: string, aad: string): Promise<Buffer> {
      const [v, iv, tag, body] = sealed.split('.');
      if (v !== 'v1' || !iv || !tag || body === undefined) throw new Error('not a sealed secret');
      const d = createDecipheriv('aes-256-gcm', await keyOf(), Buffer.from(iv, 'base64url'));
      d.setAAD(Buffer.from(aad));
      d.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]);
    },
  };
}

export type SecretBox = ReturnType<typeof createSecretBox>;
