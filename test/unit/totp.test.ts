import { test } from 'node:test';
import assert from 'node:assert/strict';
import { base32Decode, base32Encode, hotp, matchStep, otpauthUri, stepAt, totpAt } from '../../src/core/auth/totp.js';

// RFC 6238 appendix B: the seeds are ASCII "1234567890" repeated to each hash's key length; 8 digits.
const SHA1 = Buffer.from('12345678901234567890');
const SHA256 = Buffer.from('12345678901234567890123456789012');
const SHA512 = Buffer.from('1234567890123456789012345678901234567890123456789012345678901234');
const VECTORS: Array<[number, string, string, string]> = [
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];

test("RFC 6238's test vectors (SHA-1, SHA-256, SHA-512, 8 digits)", () => {
  for (const [t, sha1, sha256, sha512] of VECTORS) {
    assert.equal(totpAt(SHA1, t, 8), sha1, `sha1 at ${t}`);
    assert.equal(totpAt(SHA256, t, 8, 'sha256'), sha256, `sha256 at ${t}`);
    assert.equal(totpAt(SHA512, t, 8, 'sha512'), sha512, `sha512 at ${t}`);
  }
});

test("RFC 4226's HOTP test values (appendix D)", () => {
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  expected.forEach((code, counter) => assert.equal(hotp(SHA1, counter), code));
});

test('a code matches its own step and one either side, nothing further; only 6 digits', () => {
  const t = 1_700_000_000;
  const now = stepAt(t);
  for (const d of [-1, 0, 1]) assert.equal(matchStep(SHA1, hotp(SHA1, now + d), t), now + d);
  for (const d of [-3, -2, 2, 3]) assert.equal(matchStep(SHA1, hotp(SHA1, now + d), t), null);
  assert.equal(matchStep(SHA1, '12345', t), null);
  assert.equal(matchStep(SHA1, '1234567', t), null);
  assert.equal(matchStep(SHA1, ' 123456', t), null);
});

test('base32 round-trips and matches RFC 4648 section 10', () => {
  assert.equal(base32Encode(Buffer.from('foobar')), 'MZXW6YTBOI');
  assert.equal(base32Encode(Buffer.from('f')), 'MY');
  assert.deepEqual(base32Decode('MZXW6YTBOI======'), Buffer.from('foobar'));
  assert.deepEqual(base32Decode('mzxw 6ytb oi'), Buffer.from('foobar'));
  assert.throws(() => base32Decode('MZ1'));
  const key = Buffer.from('0123456789abcdefghij');
  assert.deepEqual(base32Decode(base32Encode(key)), key);
});

test('the otpauth URI names pocketd and the admin, escaped', () => {
  const uri = otpauthUri('pocketd', 'ops+a@example.com', 'ABC');
  assert.match(uri, /^otpauth:\/\/totp\/pocketd:ops%2Ba%40example\.com\?/);
  const q = new URL(uri).searchParams;
  assert.equal(q.get('secret'), 'ABC');
  assert.equal(q.get('issuer'), 'pocketd');
  assert.equal(q.get('digits'), '6');
  assert.equal(q.get('period'), '30');
});
