import { useState } from 'preact/hooks';

/**
 * What an action on a page ended with: why it failed, or the note it answered. `run` clears both, runs the
 * action and keeps one of them; `StatusNote` shows the note.
 */
export function useNotedAction() {
  const [err, setErr] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const run = async (action: () => Promise<string>) => {
    setErr(null);
    setNote(null);
    try {
      setNote(await action());
    } catch (x) {
      setErr(x);
    }
  };
  return { err, note, run };
}

/** An action's note, said to screen readers as it appears. */
export const StatusNote = ({ note }: { note: string | null }) =>
  note ? (
    <p class="panel" role="status">
      {note}
    </p>
  ) : null;
