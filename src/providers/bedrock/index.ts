import type { ProviderModule } from '../types.ts';
import { createBedrockAdapter } from './adapter.ts';

/** Amazon Bedrock from the AWS SDK's own environment variables. */
export const provider: ProviderModule = {
  name: 'bedrock',
  env: [
    { name: 'AWS_ACCESS_KEY_ID', secret: true, description: 'AWS access key id (SigV4 signing)' },
    { name: 'AWS_SECRET_ACCESS_KEY', secret: true, description: 'AWS secret access key' },
    {
      name: 'AWS_SESSION_TOKEN',
      secret: true,
      description: 'Session token for temporary credentials (optional)',
    },
    { name: 'AWS_REGION', secret: false, description: 'Bedrock region (falls back to AWS_DEFAULT_REGION)' },
    {
      name: 'BEDROCK_BASE_URL',
      secret: false,
      description: 'Override of https://bedrock-runtime.{region}.amazonaws.com (VPC endpoint, proxy, fake)',
    },
  ],
  fromEnv(env) {
    const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
    const region = (env.AWS_REGION || env.AWS_DEFAULT_REGION)?.trim();
    if (!accessKeyId || !secretAccessKey || !region) return undefined;
    return createBedrockAdapter({
      credentials: { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN?.trim() || undefined },
      region,
      baseURL: env.BEDROCK_BASE_URL?.trim() || undefined,
    });
  },
};
