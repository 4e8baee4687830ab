/** Step handler: registers the best candidate's model as a new version. */
import type { RegisterModelInput, RegisterModelOutput } from './contracts';
import { registerModel } from './impl';

export async function handler(input: RegisterModelInput): Promise<RegisterModelOutput> {
  return registerModel(input);
}
