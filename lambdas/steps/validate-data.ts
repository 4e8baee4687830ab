/** Step handler: checks every row against the data contract; splits valid from rejected rows. */
import type { ValidateDataInput, ValidateDataOutput } from './contracts';
import { validateData } from './impl';

export async function handler(input: ValidateDataInput): Promise<ValidateDataOutput> {
  return validateData(input);
}
