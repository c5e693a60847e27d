import type { TokenKind } from '../../db/schema.js';

/** Who made a request, as routes and the audit log see it. */
export interface Principal {
  tokenId: number;
  name: string;
  scope: string;
  kind: TokenKind;
  userId: number | null;
  email: string | null;
}

export interface TokenInfo {
  id: number;
  name: string;
  kind: TokenKind;
  scope: string;
  prefix: string;
  created_at: string;
  expires_at: string;
  last_used_at: string | null;
}
