/** `weir schema`: the JSON Schema of weir.yaml, for editors (yaml-language-server) and tools. */
import { WeirConfig } from '../config/schema.js';

export function configJsonSchema(): Record<string, unknown> {
  return { $schema: 'http://json-schema.org/draft-07/schema#', ...JSON.parse(JSON.stringify(WeirConfig)) };
}
