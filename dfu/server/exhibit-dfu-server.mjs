// exhibit-dfu-server: the DFU's receiving end for exhibit kiosks. Several tus 1.0 server
// processes (@tus/server with @tus/s3-store) behind one address, writing to one bucket of an
// S3 object store (Ceph's RADOS gateway, or any S3-compatible store), with mutual TLS, and
// receipts by hash (receipts.mjs). docs/dfu.md is the operator's guide.
//
//   node exhibit-dfu-server.mjs --listen HOST:PORT --tmp DIR
//        (--cert PEM --key PEM --client-ca PEM | --http)
//        [--workers N] [--s3-env FILE] [--part-size BYTES] [--max-size BYTES]
//        [--sweep-interval SECONDS]
//
// The store comes from S3_ENDPOINT, S3_BUCKET, S3_REGION, AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, in the environment or in --s3-env's KEY=VALUE lines (which win).
// PORT 0 picks a free port. When every worker listens, one line "listening <port>" goes to
// stdout; everything else is logged to stderr, a line per event.
//
// The primary process forks the workers, forks a new one in a dead one's place, and runs the
// sweeper: at start and then every --sweep-interval seconds it settles every upload that has
// no receipt yet (assembling those left in the crash window). Each worker spools PATCH bodies
// in a temporary folder of its own under --tmp, emptied whenever a worker starts in its place
// (a killed worker leaves its spooled parts behind).
//
// What the kiosks see beyond tus 1.0: OPTIONS answers carry "Exhibit-Receipt:
// exhibit-dfu-receipt/1" and "Exhibit-Min-Chunk-Size: <bytes>" (the store's smallest part: a
// smaller PATCH that is not an upload's last costs a round trip through the store), and
// GET <upload URL>/receipt answers 200 with the receipt, 202 with {"state":"pending","reason"}
// while the upload is not settled, or 404.
import cluster from 'node:cluster';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
// Where the pinned packages are: beside this file after `npm ci` (a deployment), or in the
// checkout's git-ignored .node-deps/dfu (scripts/install-node-deps).
const depsDir = process.env.EXHIBIT_DFU_NODE_DEPS ??
  (fs.existsSync(path.join(here, 'node_modules')) ? here : path.join(here, '..', '..', '.node-deps', 'dfu'));
const require = createRequire(path.join(depsDir, 'package.json'));
// The pinned SDK runs on node 20; its warning that later versions will not would be repeated
// by every process on every start.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { Server } = await import(require.resolve('@tus/server'));
const { S3Store } = await import(require.resolve('@tus/s3-store'));
const s3 = await import(require.resolve('@aws-sdk/client-s3'));
const { Receipts, RECEIPT_FORMAT, UPLOAD_ID } = await import('./receipts.mjs');

const MIN_PART_SIZE = 5 * 1024 * 1024;  // S3's smallest part but the last
const RECEIPT_WAIT_MS = 10_000;
const RECEIPT_POLL_MS = 250;

function log(who, message) {
  process.stderr.write(`exhibit-dfu-server ${who}: ${message}\n`);
}

function parseArgs(argv) {
  const opts = { workers: 2, http: false, partSize: 8 * 1024 * 1024, sweepInterval: 60 };
  const number = (flag, text, min) => {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`${flag} needs a whole number of at least ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--listen') opts.listen = next();
    else if (a === '--tmp') opts.tmp = next();
    else if (a === '--cert') opts.cert = next();
    else if (a === '--key') opts.key = next();
    else if (a === '--client-ca') opts.clientCa = next();
    else if (a === '--http') opts.http = true;
    else if (a === '--workers') opts.workers = number(a, next(), 1);
    else if (a === '--s3-env') opts.s3Env = next();
    else if (a === '--part-size') opts.partSize = number(a, next(), MIN_PART_SIZE);
    else if (a === '--max-size') opts.maxSize = number(a, next(), 1);
    else if (a === '--sweep-interval') opts.sweepInterval = number(a, next(), 1);
    else throw new Error(`unknown argument ${a}`);
  }
  const m = /^(.*):(\d+)$/.exec(opts.listen ?? '');
  if (!m) throw new Error('--listen HOST:PORT is required');
  opts.host = m[1].replace(/^\[(.*)\]$/, '$1');
  opts.port = number('--listen', m[2], 0);
  if (!opts.tmp) throw new Error('--tmp DIR is required');
  if (opts.http) {
    // Evidence crosses the network only over mutual TLS; plain HTTP is for a loopback demo.
    if (!['127.0.0.1', '::1', 'localhost'].includes(opts.host)) throw new Error('--http serves loopback only');
  } else if (!(opts.cert && opts.key && opts.clientCa)) {
    throw new Error('--cert, --key and --client-ca are required (mutual TLS), or --http on loopback');
  }
  return opts;
}

// The store's settings: the environment, then --s3-env's lines.
function storeSettings(opts) {
  const env = { ...process.env };
  if (opts.s3Env) {
    for (const line of fs.readFileSync(opts.s3Env, 'utf8').split('\n')) {
      const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
      if (m) env[m[1]] = m[2];
    }
  }
  for (const key of ['S3_ENDPOINT', 'S3_BUCKET', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
    if (!env[key]) throw new Error(`${key} is not set (environment or --s3-env)`);
  }
  return {
    bucket: env.S3_BUCKET,
    client: {
      endpoint: env.S3_ENDPOINT,
      region: env.S3_REGION || 'default',
      forcePathStyle: true,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
      // The SDK's default checksums stream parts with aws-chunked encoding and no
      // Content-Length, which Ceph's gateway (Pacific) refuses with 411.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // The SDK waits for ever by default: a gateway that stops answering mid-request would
      // hold an upload (and its receipt) with it. 60 s without a byte ends the request.
      requestHandler: { connectionTimeout: 10_000, socketTimeout: 60_000 },
    },
  };
}

function emptyFolder(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
}

function primary(opts, store) {
  const slots = new Map();  // worker id -> slot
  let listening = 0;
  // The port the workers share. With --listen :0 it is the one the first worker got: the
  // primary closes the shared socket when no worker is left, and workers started after that
  // must open the same port again, not another free one.
  let port = opts.port;
  const fork = (slot) => {
    const tmp = path.join(opts.tmp, `worker-${slot}`);
    emptyFolder(tmp);
    const worker = cluster.fork({ TMPDIR: tmp, EXHIBIT_DFU_WORKER: String(slot), EXHIBIT_DFU_PORT: String(port) });
    slots.set(worker.id, slot);
    log('primary', `worker ${slot} started, pid ${worker.process.pid}`);
    worker.on('listening', (address) => {
      if (port === 0) port = address.port;
      if (++listening === opts.workers) process.stdout.write(`listening ${address.port}\n`);
    });
  };
  let stopping = false;
  cluster.on('exit', (worker, code, signal) => {
    const slot = slots.get(worker.id);
    slots.delete(worker.id);
    if (stopping) return;
    log('primary', `worker ${slot} (pid ${worker.process.pid}) ended (${signal ?? `exit ${code}`}); starting another`);
    setTimeout(() => fork(slot), 200);
  });
  emptyFolder(opts.tmp);
  for (let slot = 1; slot <= opts.workers; slot++) fork(slot);

  const receipts = new Receipts({ s3, client: new s3.S3Client(store.client), bucket: store.bucket, who: 'sweeper' });
  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      for (const id of await receipts.unsettled()) {
        // One upload that cannot be settled (its record unreadable, the store failing on it)
        // is named and left for the next sweep; the others go on.
        try {
          const result = await receipts.settle(id);
          if (result.state === 'received') {
            log('sweeper', `${id}: receipt written (${result.receipt.verdict}, assembled by ${result.receipt.assembled_by})`);
          }
        } catch (e) {
          log('sweeper', `${id}: cannot settle it: ${e.name}: ${e.message}`);
        }
      }
    } catch (e) {
      log('sweeper', `cannot list the bucket: ${e.name}: ${e.message}`);
    } finally {
      sweeping = false;
    }
  };
  sweep();
  const timer = setInterval(sweep, opts.sweepInterval * 1000);
  for (const sig of ['SIGTERM', 'SIGINT']) {
    process.on(sig, () => {
      stopping = true;
      clearInterval(timer);
      for (const worker of Object.values(cluster.workers)) worker.process.kill('SIGTERM');
      process.exit(0);
    });
  }
}

function worker(opts, store) {
  const who = `worker ${process.env.EXHIBIT_DFU_WORKER}`;
  const receipts = new Receipts({ s3, client: new s3.S3Client(store.client), bucket: store.bucket, who });
  const tus = new Server({
    path: '/files',
    // Behind TLS the server cannot tell its own scheme: name uploads by path.
    relativeLocation: true,
    datastore: new S3Store({
      partSize: opts.partSize,
      minPartSize: MIN_PART_SIZE,
      maxConcurrentPartUploads: 4,
      s3ClientConfig: { bucket: store.bucket, ...store.client },
    }),
    ...(opts.maxSize ? { maxSize: opts.maxSize } : {}),
    // The object is assembled; hash it and write its receipt without holding the PATCH's
    // answer (a 1 GiB item takes seconds to read back). A worker killed before it is done
    // leaves the upload to the sweeper, or to the kiosk's receipt request.
    onUploadFinish: async (req, upload) => {
      log(who, `${upload.id}: all ${upload.size} bytes stored; hashing the object for its receipt`);
      receipts.settle(upload.id).then(
        (r) => log(who, `${upload.id}: ${r.state === 'received' ? `receipt written (${r.receipt.verdict})` : r.reason}`),
        (e) => log(who, `${upload.id}: no receipt yet: ${e.name}: ${e.message}`),
      );
      return {};
    },
  });

  const json = (res, code, body) => {
    res.writeHead(code, { 'Content-Type': 'application/json', 'Tus-Resumable': '1.0.0' });
    res.end(JSON.stringify(body));
  };
  const handler = (req, res) => {
    const receipt = /^\/files\/([^/?]+)\/receipt$/.exec(req.url);
    if (receipt && (req.method === 'GET' || req.method === 'HEAD')) {
      const id = receipt[1];
      if (!UPLOAD_ID.test(id)) return json(res, 404, { state: 'unknown' });
      // A large object takes a while to read back and hash, here or in another process (which
      // is then watched for its receipt every RECEIPT_POLL_MS): past RECEIPT_WAIT_MS the kiosk
      // is told to ask again rather than left waiting on a silent connection.
      const deadline = Date.now() + RECEIPT_WAIT_MS;
      const settled = (async () => {
        for (;;) {
          const r = await receipts.settle(id);
          if (!(r.state === 'pending' && r.hashing) || Date.now() + RECEIPT_POLL_MS > deadline) return r;
          await new Promise((resolve) => setTimeout(resolve, RECEIPT_POLL_MS));
        }
      })();
      let timer;
      const late = new Promise((resolve) => {
        timer = setTimeout(() => resolve({ state: 'pending', reason: 'its object is being hashed', stored: null }), RECEIPT_WAIT_MS);
      });
      Promise.race([settled, late]).finally(() => clearTimeout(timer)).then(
        (r) => {
          if (r.state === 'received') return json(res, 200, r.receipt);
          if (r.state === 'pending') return json(res, 202, { state: 'pending', reason: r.reason, stored: r.stored });
          return json(res, 404, { state: 'unknown' });
        },
        (e) => {
          log(who, `${id}: receipt request: cannot settle it: ${e.name}: ${e.message}`);
          json(res, 503, { state: 'error', reason: 'the upload or the object store cannot be read' });
        },
      );
      return;
    }
    if (req.method === 'OPTIONS') {
      res.setHeader('Exhibit-Receipt', RECEIPT_FORMAT);
      res.setHeader('Exhibit-Min-Chunk-Size', String(MIN_PART_SIZE));
    }
    return tus.handle(req, res);
  };
  const server = opts.http
    ? http.createServer(handler)
    : https.createServer(
        {
          cert: fs.readFileSync(opts.cert),
          key: fs.readFileSync(opts.key),
          ca: fs.readFileSync(opts.clientCa),
          requestCert: true,
          rejectUnauthorized: true,
          minVersion: 'TLSv1.2',
        },
        handler,
      );
  server.keepAliveTimeout = 60_000;
  server.listen(Number(process.env.EXHIBIT_DFU_PORT ?? opts.port), opts.host);
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
}

let opts, store;
try {
  opts = parseArgs(process.argv.slice(2));
  store = storeSettings(opts);
} catch (e) {
  console.error(`exhibit-dfu-server: ${e.message}`);
  process.exit(2);
}
if (cluster.isPrimary) primary(opts, store);
else worker(opts, store);
