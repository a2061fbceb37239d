import { useState, type FormEvent } from 'react';
import type { ClientApi, ClientParticipant, ConferenceStatus, ParticipantAction } from '../client/ClientApi.js';
import { friendlyReason } from './reasons.js';
import { flagsOf, sortedParticipants } from './roster.js';

interface Props {
  api: ClientApi;
  participants: ClientParticipant[];
  selfUuid: string;
  isHost: boolean;
  conference: ConferenceStatus | null;
  /** Names stand alone (no roles, no actions): a Test Call or reception. */
  plain: boolean;
}

/**
 * Who is here: muted, presenting, hand up, waiting in the lobby; a Host's actions on each
 * (mute, spotlight, admit, make Host / Guest, transfer, remove) and on the meeting (lock, mute
 * all Guests, lower all hands).
 */
export function ParticipantList({ api, participants, selfUuid, isHost, conference, plain }: Props) {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const run = (what: Promise<unknown>) => {
    setBusy(true);
    setError('');
    what.then(
      () => setBusy(false),
      (err: unknown) => {
        setBusy(false);
        setError(friendlyReason(err instanceof Error ? err.message : String(err)));
      },
    );
  };
  const list = sortedParticipants(participants);
  const lobby = list.filter((p) => flagsOf(p).inLobby).length;
  const hands = list.filter((p) => flagsOf(p).handRaised).length;
  const locked = conference?.locked ?? false;
  const guestsMuted = conference?.guests_muted ?? false;

  return (
    <section className="participants" aria-label="Participants">
      <h2>
        Participants ({participants.length}){locked && <span className="badge lock"> Locked</span>}
      </h2>
      {isHost && !plain && (
        <div className="host-actions" role="group" aria-label="Meeting controls">
          <button type="button" className="small" disabled={busy} onClick={() => run(api.conferenceControl(guestsMuted ? 'unmuteguests' : 'muteguests'))}>
            {guestsMuted ? 'Unmute all Guests' : 'Mute all Guests'}
          </button>
          <button type="button" className="small" aria-pressed={locked} disabled={busy} onClick={() => run(api.conferenceControl(locked ? 'unlock' : 'lock'))}>
            {locked ? 'Unlock meeting' : 'Lock meeting'}
          </button>
          {hands > 0 && (
            <button type="button" className="small" disabled={busy} onClick={() => run(api.conferenceControl('clearallbuzz'))}>
              Lower all hands
            </button>
          )}
          <button
            type="button"
            className="small danger"
            disabled={busy}
            onClick={() => {
              if (window.confirm('End the meeting for everyone?')) run(api.conferenceControl('disconnect'));
            }}
          >
            End meeting for everyone
          </button>
          {conference && (
            <label className="check">
              <input
                type="checkbox"
                checked={conference.guests_can_unmute ?? true}
                disabled={busy}
                onChange={(e) => run(api.setGuestsCanUnmute(e.target.checked))}
              />
              Guests can unmute themselves
            </label>
          )}
        </div>
      )}
      {lobby > 0 && (
        <p className="hint" data-testid="lobby-count">
          {lobby === 1 ? '1 person is' : `${lobby} people are`} waiting in the lobby
        </p>
      )}
      {error && <p role="alert">{error}</p>}
      <ul data-testid="roster">
        {list.map((p) => (
          <Row key={p.uuid} api={api} p={p} self={p.uuid === selfUuid} isHost={isHost && !plain} plain={plain} busy={busy} run={run} />
        ))}
      </ul>
    </section>
  );
}

function Row(props: {
  api: ClientApi;
  p: ClientParticipant;
  self: boolean;
  isHost: boolean;
  plain: boolean;
  busy: boolean;
  run: (p: Promise<unknown>) => void;
}) {
  const { api, p, self, isHost, plain, busy, run } = props;
  const f = flagsOf(p);
  const name = p.display_name || 'Participant';
  const act = (action: ParticipantAction) => run(api.participantControl(p.uuid, action));
  const [transferring, setTransferring] = useState(false);
  return (
    <li data-participant-uuid={p.uuid} data-testid="participant" className={f.inLobby ? 'in-lobby' : undefined}>
      <div className="who">
        <span className="name" data-testid="participant-name">
          {name}
        </span>
        {self && <span className="badge"> (you)</span>}
        {!plain && <span className="badge role">{f.atPin ? 'Unknown' : f.host ? 'Host' : 'Guest'}</span>}
        {f.inLobby && <span className="badge lobby">In the lobby</span>}
        {f.atPin && <span className="badge lobby">At PIN entry</span>}
        {f.handRaised && (
          <span className="badge hand" data-testid="hand-raised">
            Hand raised
          </span>
        )}
        {f.presenting && <span className="badge">Presenting</span>}
        {f.spotlight && (
          <span className="badge spot" data-testid="spotlit">
            Spotlight
          </span>
        )}
        {f.muted && (
          <span className="badge muted" data-testid="muted-by-host">
            Muted by Host
          </span>
        )}
        {!f.muted && f.clientMuted && <span className="badge muted">Muted</span>}
        {f.videoMuted && <span className="badge">Camera off</span>}
        {f.presentationDenied && (
          <span className="badge" data-testid="presentation-denied">
            No presentation
          </span>
        )}
      </div>
      {isHost && f.inLobby && (
        <button type="button" className="small" disabled={busy} onClick={() => act('unlock')} aria-label={`Admit ${name}`}>
          Admit
        </button>
      )}
      {isHost && f.atPin && (
        // Guide §20.6: Make Host or Make Guest lets a caller at the PIN entry screen in without a PIN.
        <div className="host-actions" role="group" aria-label={`Let ${name} in`}>
          <button type="button" className="small" disabled={busy} onClick={() => run(api.setRole(p.uuid, 'chair'))}>
            {`Make ${name} a Host`}
          </button>
          <button type="button" className="small" disabled={busy} onClick={() => run(api.setRole(p.uuid, 'guest'))}>
            {`Make ${name} a Guest`}
          </button>
          <button type="button" className="small danger" disabled={busy} onClick={() => act('disconnect')}>
            {`Remove ${name}`}
          </button>
        </div>
      )}
      {isHost && !f.inLobby && !f.atPin && (
        <details
          className="actions"
          onKeyDown={(e) => {
            // Escape closes the menu and returns to its button.
            if (e.key !== 'Escape' || !e.currentTarget.open) return;
            e.currentTarget.open = false;
            e.currentTarget.querySelector('summary')?.focus();
          }}
        >
          <summary aria-label={`Actions for ${name}`}>Actions</summary>
          <div className="action-list">
            <button type="button" className="small" disabled={busy} onClick={() => act(f.muted ? 'unmute' : 'mute')}>
              {f.muted ? `Unmute ${name}` : `Mute ${name}`}
            </button>
            <button type="button" className="small" disabled={busy} onClick={() => act(f.spotlight ? 'spotlightoff' : 'spotlighton')}>
              {f.spotlight ? `Remove spotlight from ${name}` : `Spotlight ${name}`}
            </button>
            {f.handRaised && (
              <button type="button" className="small" disabled={busy} onClick={() => act('clearbuzz')}>
                {`Lower ${name}'s hand`}
              </button>
            )}
            <button type="button" className="small" disabled={busy} onClick={() => act(f.presentationDenied ? 'allowrxpresentation' : 'denyrxpresentation')}>
              {f.presentationDenied ? `Send the presentation to ${name}` : `Stop sending the presentation to ${name}`}
            </button>
            <button
              type="button"
              className="small"
              disabled={busy}
              onClick={() => {
                const text = window.prompt(`Name shown on ${name}'s tile (empty: their own name)`, p.overlay_text === p.display_name ? '' : p.overlay_text);
                if (text !== null) run(api.overlayText(p.uuid, text));
              }}
            >
              {`Rename ${name}'s tile…`}
            </button>
            {!self && (
              <button type="button" className="small" disabled={busy} onClick={() => run(api.setRole(p.uuid, f.host ? 'guest' : 'chair'))}>
                {f.host ? `Make ${name} a Guest` : `Make ${name} a Host`}
              </button>
            )}
            {!self && (
              <button type="button" className="small" disabled={busy} aria-expanded={transferring} onClick={() => setTransferring((t) => !t)}>
                {`Transfer ${name}…`}
              </button>
            )}
            {!self && (
              <button type="button" className="small danger" disabled={busy} onClick={() => act('disconnect')}>
                {`Remove ${name}`}
              </button>
            )}
          </div>
          {transferring && (
            <TransferForm
              name={name}
              onCancel={() => setTransferring(false)}
              onTransfer={(alias, role, pin) => {
                setTransferring(false);
                run(
                  api.transfer(p.uuid, alias, role, pin).catch((err: unknown) => {
                    // The guide's "transfer failed": the alias is unknown, or the role needs that meeting's PIN;
                    // as the guide says, the participant is disconnected rather than kept here.
                    throw new Error(
                      `${name} could not be transferred to ${alias} and was disconnected. Check the alias${role === 'host' ? ", and give that meeting's Host PIN to make them Host there" : ', and its Guest PIN if it has one'}.`,
                      { cause: err },
                    );
                  }),
                );
              }}
            />
          )}
        </details>
      )}
    </li>
  );
}

function TransferForm({
  name,
  onTransfer,
  onCancel,
}: {
  name: string;
  onTransfer: (alias: string, role: 'host' | 'guest', pin?: string) => void;
  onCancel: () => void;
}) {
  const [alias, setAlias] = useState('');
  const [role, setRole] = useState<'host' | 'guest'>('guest');
  const [pin, setPin] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (alias.trim()) onTransfer(alias.trim(), role, pin.trim() || undefined);
  };
  return (
    <form className="transfer" onSubmit={submit} aria-label={`Transfer ${name}`}>
      <label>
        To meeting alias
        <input required autoFocus value={alias} onChange={(e) => setAlias(e.target.value)} autoComplete="off" />
      </label>
      <label>
        As
        <select value={role} onChange={(e) => setRole(e.target.value === 'host' ? 'host' : 'guest')}>
          <option value="guest">Guest</option>
          <option value="host">Host</option>
        </select>
      </label>
      <label>
        Their PIN there (if any)
        <input inputMode="numeric" value={pin} onChange={(e) => setPin(e.target.value)} autoComplete="off" />
      </label>
      <div className="row">
        <button type="submit" className="small">
          Transfer
        </button>
        <button type="button" className="small secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
