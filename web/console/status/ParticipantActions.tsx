import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import type { LiveParticipant } from '../../../shared/node-protocol/messages.js';
import { errorMessage, useTRPC } from '../trpc.js';
import { TransferForm } from './TransferForm.js';
import { useMayCommand } from './useCommandPermission.js';

type Action = 'disconnect' | 'mute' | 'unmute' | 'spotlighton' | 'spotlightoff' | 'unlock' | 'make_host' | 'make_guest';

/**
 * An administrator's actions on one participant (guide: Mute / Unmute, Admit from the waiting room,
 * change role, spotlight, Transfer, Disconnect), carried out by the node they are on. Where the node reports the
 * participant's state, only the action that changes it is offered.
 */
export function ParticipantActions({ participant }: { participant: LiveParticipant }) {
  const trpc = useTRPC();
  const mayCommand = useMayCommand();
  const command = useMutation(trpc.command.participant.mutationOptions());
  const [transferring, setTransferring] = useState(false);
  if (!mayCommand) return null;
  if (transferring) return <TransferForm participantId={participant.id} displayName={participant.displayName} onDone={() => setTransferring(false)} />;
  const button = (action: Action, label: string, className = 'secondary') => (
    <button
      type="button"
      className={className}
      disabled={command.isPending}
      onClick={() => command.mutate({ participantId: participant.id, action })}
      data-testid={`participant-${action}`}
    >
      {label}
    </button>
  );
  if (participant.role === 'unknown')
    // At the PIN entry screen: Make Host or Make Guest lets the caller in without a PIN (guide §20.6), or it is disconnected.
    return (
      <span className="toolbar" role="group" aria-label={`Actions for ${participant.displayName}`} style={{ margin: 0 }}>
        {button('make_host', 'Make Host')}
        {button('make_guest', 'Make Guest')}
        {button('disconnect', 'Disconnect', 'danger')}
        {command.error && <span role="alert">{errorMessage(command.error)}</span>}
      </span>
    );
  return (
    <span className="toolbar" role="group" aria-label={`Actions for ${participant.displayName}`} style={{ margin: 0 }}>
      {participant.isMuted !== true && button('mute', 'Mute')}
      {participant.isMuted !== false && button('unmute', 'Unmute')}
      {participant.isOnHold === true && button('unlock', 'Admit')}
      {participant.role === 'chair' ? button('make_guest', 'Make Guest') : button('make_host', 'Make Host')}
      {participant.isSpotlighted !== true && button('spotlighton', 'Spotlight')}
      {participant.isSpotlighted !== false && button('spotlightoff', 'Remove spotlight')}
      <button type="button" className="secondary" onClick={() => setTransferring(true)}>
        Transfer…
      </button>
      {button('disconnect', 'Disconnect', 'danger')}
      {command.error && <span role="alert">{errorMessage(command.error)}</span>}
    </span>
  );
}
