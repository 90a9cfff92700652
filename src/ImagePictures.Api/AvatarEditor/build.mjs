// Writes avatar-editor.js: the <avatar-editor> element with Cropper.js 2 and the SignalR browser client
// (both from npm, pinned in package-lock.json) as one minified ES module. Usage: node build.mjs <output file>
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const output = process.argv[2] ?? join(here, 'dist', 'avatar-editor.js');
const version = (name) => JSON.parse(readFileSync(join(here, 'node_modules', name, 'package.json'), 'utf8')).version;

await build({
  entryPoints: [join(here, 'avatar-editor.element.js')],
  outfile: output,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome120', 'firefox120', 'safari16'],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  banner: {
    js: `/*! ImagePictures <avatar-editor>. Contains cropperjs ${version('cropperjs')} (MIT, (c) Chen Fengyuan) and `
      + `@microsoft/signalr ${version('@microsoft/signalr')} (MIT, (c) .NET Foundation). */`,
  },
});
