import type { Logger } from 'pino';
import type { CommandResultMessage, NodeCommand } from '../../shared/node-protocol/commands.js';
import { ADMINISTRATOR } from '../conference/ConferenceControl.js';
import type { ConferenceManager } from '../conference/ConferenceManager.js';
import { ControlError, REFUSAL } from '../conference/ControlError.js';

type Outcome = Omit<CommandResultMessage, 'type' | 'requestId'>;

const CONFERENCE_ACTION = {
  lock: 'lock',
  unlock: 'unlock',
  mute_guests: 'muteguests',
  unmute_guests: 'unmuteguests',
  disconnect: 'disconnect',
  start: 'start_conference',
} as const;

/**
 * Carries out an administrator's command from the management server with ConferenceControl, so the
 * client API's rules apply (an administrator has a Host's rights). Never throws: every outcome is
 * an answer for the server.
 */
export function runNodeCommand(manager: ConferenceManager, command: NodeCommand, log: Logger): Outcome {
  if (command.kind === 'dial') return dial(manager, command, log);
  const conf = manager.conferences().find((c) => c.id === command.conferenceId);
  if (!conf) return { ok: false, failure: 'not_found', reason: 'Conference not found' };
  const control = manager.control;
  try {
    switch (command.kind) {
      case 'conference':
        control.conference(conf, ADMINISTRATOR, CONFERENCE_ACTION[command.action]);
        break;
      case 'conference_layout':
        control.transformLayout(conf, ADMINISTRATOR, { transforms: command.transforms });
        break;
      case 'participant':
        control.participant(conf, ADMINISTRATOR, command.participantId, command.action);
        break;
      case 'participant_role':
        control.setRole(conf, ADMINISTRATOR, command.participantId, command.role);
        break;
      case 'participant_transfer':
        control.transfer(conf, ADMINISTRATOR, command.participantId, command.transfer);
        break;
    }
  } catch (err) {
    if (err instanceof ControlError) {
      return { ok: false, failure: err.message === REFUSAL.notFound ? 'not_found' : 'refused', reason: err.message };
    }
    log.error({ err, command: command.kind }, 'administrator command failed');
    return { ok: false, failure: 'refused', reason: 'The command failed on the conferencing node' };
  }
  log.info(
    { conference: conf.service.name, command: command.kind, action: 'action' in command ? command.action : undefined },
    'Administrator command carried out',
  );
  return { ok: true };
}

/** `participant/dial/`: a SIP call from the service of the alias, its running instance or a new one. */
function dial(manager: ConferenceManager, command: Extract<NodeCommand, { kind: 'dial' }>, log: Logger): Outcome & { participantId?: string } {
  const service = manager.directory.lookup(command.conferenceAlias);
  if (!service) return { ok: false, failure: 'not_found', reason: 'Conference not found' };
  const dialer = manager.control.dialer;
  if (!dialer || (command.protocol !== 'sip' && command.protocol !== 'auto')) return { ok: false, failure: 'refused', reason: REFUSAL.dialOutFailed };
  const placed = dialer(service, {
    destination: command.destination,
    role: command.role === 'chair' ? 'HOST' : 'GUEST',
    callerAlias: command.conferenceAlias,
    ...(command.remoteDisplayName ? { displayName: command.remoteDisplayName } : {}),
    ...(command.localDisplayName ? { callerName: command.localDisplayName } : {}),
    ...(command.dtmfSequence ? { dtmfSequence: command.dtmfSequence } : {}),
    ...(command.routing === 'routing_rule' ? { routing: 'rules' as const } : {}),
    source: 'command',
  });
  if ('refused' in placed) return { ok: false, failure: 'refused', reason: placed.refused };
  log.info({ conference: service.name, destination: command.destination }, 'Administrator dial-out placed');
  return { ok: true, participantId: placed.id };
}
