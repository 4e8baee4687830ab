export {
  type AlertDecision,
  type AlertEpisodeState,
  decideAlert,
  NO_EPISODE,
  nextEpisodeState,
} from './alert-episode';
export { AlertSendError, type AlertSender, SesAlertSender } from './alert-sender';
export { alertOnDrift, type DriftAlertInput, type DriftAlertOutcome } from './drift-alerting';
export { composeDriftEmail, type DriftEmailFacts, type EmailContent, escapeHtml } from './drift-email';
export { CorruptEpisodeStateError, type EpisodeStore, S3EpisodeStore } from './episode-store';
