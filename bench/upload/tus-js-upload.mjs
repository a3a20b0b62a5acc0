// tus-js-client 4.3.1 uploading one file, for bench/upload/run:
//   node tus-js-upload.mjs FILE ENDPOINT CHUNK_BYTES|unlimited CA CERT KEY
// Prints "seconds <s>" when the upload is complete.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const deps = process.env.EXHIBIT_NODE_DEPS || path.join(here, '..', '..', '.node-deps');
const require = createRequire(path.join(deps, 'package.json'));
const tus = await import(require.resolve('tus-js-client'));

const [file, endpoint, chunk, ca, cert, key] = process.argv.slice(2);
const size = fs.statSync(file).size;
const start = process.hrtime.bigint();
const upload = new tus.Upload(fs.createReadStream(file), {
  endpoint,
  uploadSize: size,
  chunkSize: chunk === 'unlimited' ? Infinity : Number(chunk),
  retryDelays: [],
  metadata: { filename: path.basename(file) },
  httpStack: new tus.DefaultHttpStack({
    ca: fs.readFileSync(ca), cert: fs.readFileSync(cert), key: fs.readFileSync(key),
  }),
  onError: (e) => { console.error(`tus-js-client: ${e}`); process.exit(1); },
  onSuccess: () => {
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(`seconds ${seconds.toFixed(3)}`);
  },
});
upload.start();
