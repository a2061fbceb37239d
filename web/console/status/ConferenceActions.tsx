import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import type { ConferenceStatus } from '../../../shared/status/conferenceStatus.js';
import { errorMessage, useTRPC } from '../trpc.js';
import { DialForm } from './DialForm.js';
import { useMayCommand } from './useCommandPermission.js';

type Layout = '1:0' | '4:0' | '1:7' | '1:21' | '2:21';
/** The guide's layout names for the client API's short ones. */
const LAYOUTS: [Layout, string][] = [
  ['1:0', 'Full-screen main speaker only (1 + 0 layout)'],
  ['4:0', '4 main speakers only (4 + 0 layout)'],
  ['1:7', 'Large main speaker and up to 7 other participants (1 + 7 layout)'],
  ['1:21', 'Small main speaker and up to 21 other participants (1 + 21 layout)'],
  ['2:21', '2 small main speakers and up to 21 other participants (2 + 21 layout)'],
];

type Action = 'lock' | 'unlock' | 'mute_guests' | 'unmute_guests' | 'disconnect';

/**
 * An administrator's actions on a live conference (guide: Lock / Unlock, Mute all Guests, layout,
 * Dial out to participant, Disconnect all), carried out by the nodes hosting it. Where the nodes report the state, only the action that
 * changes it is offered. Disconnect asks for a second click.
 */
export function ConferenceActions({ conference }: { conference: ConferenceStatus }) {
  const trpc = useTRPC();
  const mayCommand = useMayCommand();
  const command = useMutation(trpc.command.conference.mutationOptions());
  const layout = useMutation(trpc.command.layout.mutationOptions());
  const [confirming, setConfirming] = useState(false);
  const [dialling, setDialling] = useState(false);
  if (!mayCommand) return null;
  if (dialling) return <DialForm conferenceName={conference.name} onDone={() => setDialling(false)} />;
  const act = (action: Action) => command.mutate({ conferenceId: conference.id, action });
  const button = (action: Action, label: string) => (
    <button type="button" className="secondary" disabled={command.isPending} onClick={() => act(action)} data-testid={`conference-${action}`}>
      {label}
    </button>
  );
  return (
    <div className="toolbar" role="group" aria-label={`Actions for ${conference.name}`}>
      {conference.isLocked !== true && button('lock', 'Lock')}
      {conference.isLocked !== false && button('unlock', 'Unlock')}
      {conference.guestsMuted !== true && button('mute_guests', 'Mute all Guests')}
      {conference.guestsMuted !== false && button('unmute_guests', 'Unmute all Guests')}
      <select
        aria-label="Layout"
        value=""
        disabled={layout.isPending}
        onChange={(e) => e.target.value && layout.mutate({ conferenceId: conference.id, layout: e.target.value as Layout })}
      >
        <option value="">Change layout…</option>
        {LAYOUTS.map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
      <button type="button" className="secondary" onClick={() => setDialling(true)} data-testid="conference-dial">
        Dial out to participant
      </button>
      {confirming ? (
        <>
          <button
            type="button"
            className="danger"
            disabled={command.isPending}
            onClick={() => {
              setConfirming(false);
              act('disconnect');
            }}
            data-testid="conference-disconnect-confirm"
          >
            Disconnect all participants
          </button>
          <button type="button" className="link" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </>
      ) : (
        <button type="button" className="danger" onClick={() => setConfirming(true)} data-testid="conference-disconnect">
          Disconnect all
        </button>
      )}
      {command.error && <span role="alert">{errorMessage(command.error)}</span>}
      {layout.error && <span role="alert">{errorMessage(layout.error)}</span>}
    </div>
  );
}
