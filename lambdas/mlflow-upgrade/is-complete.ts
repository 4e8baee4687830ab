/** isComplete of the MLflow database upgrade custom resource: waits for the task to exit 0 (upgrade-task.ts). */
import { ecsApi, isComplete, type ProviderEvent } from './upgrade-task';

export const handler = (event: ProviderEvent) => isComplete(event, ecsApi());
