import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * Asks before the page is left with unsaved changes: a link in the dashboard opens an
 * in-page dialog (Leave / Stay; no native confirm()), a reload or closing the tab gets
 * the browser's own question (the only one a page may ask then).
 */
export function useUnsavedGuard(dirty: boolean): { target: string | null; leave: () => void; stay: () => void } {
  const [target, setTarget] = useState<string | null>(null);
  const allowed = useRef<string | null>(null);
  useEffect(() => {
    if (!dirty) return;
    const unload = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    // Links are stopped before they navigate: once the hash changed, the editor would already be gone.
    const click = (e: MouseEvent) => {
      const a = (e.target as Element | null)?.closest?.('a[href^="#"]');
      const href = a?.getAttribute('href');
      if (!href || href === location.hash || href === allowed.current) return;
      e.preventDefault();
      e.stopPropagation();
      setTarget(href);
    };
    addEventListener('beforeunload', unload);
    document.addEventListener('click', click, true);
    return () => {
      removeEventListener('beforeunload', unload);
      document.removeEventListener('click', click, true);
    };
  }, [dirty]);
  return {
    target,
    leave: () => {
      if (target === null) return;
      allowed.current = target;
      setTarget(null);
      location.hash = target;
    },
    stay: () => setTarget(null),
  };
}

/** The question itself: a modal dialog in the page, focus on Stay (the safe answer), Escape stays. */
export function LeaveDialog({ what, onLeave, onStay }: { what: string; onLeave: () => void; onStay: () => void }) {
  const stay = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    stay.current?.focus();
    const key = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onStay();
    };
    addEventListener('keydown', key);
    return () => removeEventListener('keydown', key);
  }, []);
  return (
    <div class="backdrop">
      <div
        class="dialog"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby="leave-title"
        aria-describedby="leave-text"
      >
        <h2 id="leave-title">Unsaved changes</h2>
        <p id="leave-text">Leave without saving {what}? What you changed is lost.</p>
        <div class="row">
          <button ref={stay} onClick={onStay}>
            Stay
          </button>
          <button class="danger" onClick={onLeave}>
            Leave without saving
          </button>
        </div>
      </div>
    </div>
  );
}
