import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { ChatLine } from './callState.js';

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** The meeting's chat: who, when, what (text only: never markup). */
export function ChatPanel({ lines, onSend }: { lines: ChatLine[]; onSend: (text: string) => Promise<void> }) {
  const [text, setText] = useState('');
  const [error, setError] = useState('');
  const list = useRef<HTMLOListElement>(null);
  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lines.length]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const t = text.trim();
    if (!t) return;
    onSend(t).then(
      () => {
        setText('');
        setError('');
      },
      (err: unknown) => setError(err instanceof Error ? `The message could not be sent: ${err.message}` : 'The message could not be sent'),
    );
  };
  return (
    <section className="chat" aria-label="Chat">
      <h2>Chat</h2>
      <ol data-testid="chat-messages" ref={list} aria-live="polite">
        {lines.map((l) => (
          <li key={l.id} className={l.own ? 'own' : undefined}>
            <strong>{l.origin}</strong> <time dateTime={new Date(l.at).toISOString()}>{clock.format(l.at)}</time> <span>{l.text}</span>
          </li>
        ))}
      </ol>
      {lines.length === 0 && <p className="hint">No messages yet.</p>}
      <form onSubmit={submit}>
        <label>
          Message
          <input value={text} maxLength={2000} onChange={(e) => setText(e.target.value)} autoComplete="off" />
        </label>
        {error && <p role="alert">{error}</p>}
        <button type="submit">Send</button>
      </form>
    </section>
  );
}
