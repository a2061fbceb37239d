export const KEYPAD = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

/** The Virtual Reception's keypad: DTMF digits. */
export function Keypad({ onPress, typed }: { onPress: (key: string) => void; typed: string }) {
  return (
    <div className="keypad" role="group" aria-label="Keypad">
      <output className="typed" aria-label="Digits entered">
        {typed}
      </output>
      {KEYPAD.map((k) => (
        <button key={k} type="button" onClick={() => onPress(k)} aria-label={k === '#' ? 'Pound' : k === '*' ? 'Star' : k}>
          {k}
        </button>
      ))}
    </div>
  );
}
