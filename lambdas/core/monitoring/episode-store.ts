import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { type AlertEpisodeState, NO_EPISODE } from './alert-episode';

const stateSchema = z.object({
  inBreach: z.boolean(),
  since: z.string().optional(),
  lastValue: z.number().optional(),
  lastRunAt: z.string().optional(),
  alertsSent: z.number().int().nonnegative(),
});

export interface EpisodeStore {
  load(key: string): Promise<AlertEpisodeState>;
  save(key: string, state: AlertEpisodeState): Promise<void>;
}

export class CorruptEpisodeStateError extends Error {
  override name = 'CorruptEpisodeStateError';
}

/** Keeps each model's alert episode as a small JSON object in S3 (`<prefix><key>.json`). */
export class S3EpisodeStore implements EpisodeStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly prefix = 'monitoring/alert-state/',
  ) {}

  async load(key: string): Promise<AlertEpisodeState> {
    try {
      const object = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
      );
      const text = (await object.Body?.transformToString()) ?? '';
      const parsed = stateSchema.safeParse(JSON.parse(text));
      if (!parsed.success) {
        throw new CorruptEpisodeStateError(
          `s3://${this.bucket}/${this.objectKey(key)}: ${parsed.error.message}`,
        );
      }
      return parsed.data;
    } catch (err) {
      if (err instanceof NoSuchKey) return NO_EPISODE;
      throw err;
    }
  }

  async save(key: string, state: AlertEpisodeState): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.objectKey(key),
        Body: JSON.stringify(state),
        ContentType: 'application/json',
      }),
    );
  }

  private objectKey(key: string): string {
    return `${this.prefix}${encodeURIComponent(key)}.json`;
  }
}
