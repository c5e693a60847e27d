import type { MiddlewareHandler } from 'hono';
import type { ApiEnv } from '../context.js';
import { envelope } from '../errors.js';
/**
 * Checks JSON text before it is parsed: JSON.parse keeps the last of two equal
 * keys without a word, and recurses as deep as it is told. Returns why the text
 * is refused (a duplicate key, or nesting deeper than `maxDepth`), or null.
 */
export function jsonProblem(text: string, maxDepth = 32): string | null {
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      let value = '';
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\') {
          value += text.slice(j, j + 2);
          j += 2;
          continue;
        }
        value += text[j];
        j++;
      }
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        let key = value;
        try {
          key = JSON.parse(`"${value}"`) as string;
        } catch {
          /* JSON.parse will say why */
        }
        if (top.has(key)) return `the key '${key.slice(0, 64)}' appears twice in one object`;
        top.add(key);
      }
      expectKey = false;
      i = j;
    } else if (ch === '{' || ch === '[') {
      stack.push(ch === '{' ? new Set() : null);
      if (stack.length > maxDepth) return `the JSON is nested deeper than ${maxDepth} levels`;
      expectKey = ch === '{';
    } else if (ch === '}' || ch === ']') {
      stack.pop();
    } else if (ch === ',') {
      expectKey = stack[stack.length - 1] instanceof Set;
    }
  }
  return null;
}

/** Duplicate keys and very deep nesting are refused (422) before any parser sees a JSON body. */
export function jsonGuard(): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    if (!['GET', 'HEAD', 'OPTIONS'].includes(c.req.method) && /json/i.test(c.req.header('content-type') ?? '')) {
      const problem = jsonProblem(await c.req.text());
      if (problem)
        return envelope(c, 422, 'VALIDATION_FAILED', problem, [
          { field: '(body)', code: 'MALFORMED_JSON', message: problem },
        ]);
    }
    return next();
  };
}
