/** `npm run docs`: writes the generated reference docs (see reference.ts). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generatedDocs } from './reference.js';

const root = process.argv[2] ?? process.cwd();
for (const [file, text] of Object.entries(generatedDocs())) {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), text);
  process.stdout.write(`wrote ${file}\n`);
}
