import { useState } from 'preact/hooks';

/** A button that asks once more inline before it acts (no native confirm()). */
export function ConfirmButton({
  label,
  question,
  onConfirm,
  disabled,
  danger,
  hidden,
}: {
  label: string;
  question: string;
  onConfirm: () => void;
  disabled?: boolean;
  danger?: boolean;
  /** Not offered at all (the token's scope cannot use it). */
  hidden?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  if (hidden) return null;
  if (!asking)
    return (
      <button class={`small${danger ? ' danger' : ''}`} disabled={disabled} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  return (
    <span class="confirm" role="group" aria-label={question}>
      <span>{question}</span>
      <button
        class={`small${danger ? ' danger' : ''}`}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        Yes, {label.toLowerCase()}
      </button>
      <button class="small" onClick={() => setAsking(false)}>
        No
      </button>
    </span>
  );
}
