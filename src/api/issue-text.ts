import type { core } from 'zod';

/**
 * A person's sentence for zod's own wording of a size rule ("Too small: expected string to have >=10
 * characters" becomes "must be at least 10 characters"); a message a schema wrote itself is kept.
 */
export function issueText(issue: core.$ZodIssue): string {
  if (issue.code !== 'too_small' && issue.code !== 'too_big') return issue.message;
  if (!/^Too (small|big)/.test(issue.message)) return issue.message;
  const small = issue.code === 'too_small';
  const bound = Number(small ? issue.minimum : issue.maximum);
  const inclusive = issue.inclusive !== false;
  const n = inclusive ? bound : small ? bound + 1 : bound - 1;
  const most = small ? 'at least' : 'at most';
  switch (issue.origin) {
    case 'string':
      return small && n === 1 ? 'must not be empty' : `must be ${most} ${n} character${n === 1 ? '' : 's'}`;
    case 'array':
    case 'set':
      return small && n === 1 ? 'must not be empty' : `must have ${most} ${n} entr${n === 1 ? 'y' : 'ies'}`;
    case 'number':
    case 'int':
    case 'bigint':
      return `must be ${small ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than'} ${bound}`;
    default:
      return issue.message;
  }
}
