import { useEffect, useState } from 'preact/hooks';

/** Hash routes (#/apps/shop/logs): the daemon serves one page, no server routes needed. */
export function useRoute(): string[] {
  const read = () => location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [parts, setParts] = useState(read);
  useEffect(() => {
    const on = () => setParts(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return parts;
}

export const go = (path: string) => {
  location.hash = `#/${path}`;
};

/** A message for the next page (after a delete, say), shown once. */
const FLASH = 'pocketd.flash';
export const flash = (message: string) => sessionStorage.setItem(FLASH, message);
export const takeFlash = (): string | null => {
  const m = sessionStorage.getItem(FLASH);
  sessionStorage.removeItem(FLASH);
  return m;
};
