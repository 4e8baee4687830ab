/** onEvent of the MLflow database upgrade custom resource: starts the upgrade task (upgrade-task.ts). */
import { ecsApi, onEvent, type ProviderEvent } from './upgrade-task';

export const handler = (event: ProviderEvent) => onEvent(event, ecsApi());
