// A TCP proxy on 127.0.0.1 that misbehaves like a bad link, for exhibit's upload tests.
//
//   node fault-proxy.mjs --port N --target PORT [--drop-after BYTES] [--stall-after BYTES]
//                        [--every K] [--seed S]
//
// Every K-th connection (default every one) is either dropped (both sides reset) after a
// random number of client bytes in [BYTES/2, BYTES], or stalled there: nothing more is
// forwarded in either direction and the connection stays open until a side gives up. With
// both options, faulty connections alternate between the two. Prints "listening <port>",
// per fault "drop <conn> after <n>" or "stall <conn> after <n>", and when a client's side of a
// connection closes, "closed <conn> up <n>": the bytes the client sent on it.
import net from 'node:net';

const opts = { port: 0, every: 1, seed: 1 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const v = Number(argv[i + 1]);
  switch (argv[i]) {
    case '--port': opts.port = v; break;
    case '--target': opts.target = v; break;
    case '--drop-after': opts.drop = v; break;
    case '--stall-after': opts.stall = v; break;
    case '--every': opts.every = v; break;
    case '--seed': opts.seed = v; break;
    default: console.error(`unknown argument ${argv[i]}`); process.exit(2);
  }
}
let state = opts.seed >>> 0 || 1;
const random = () => {
  state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0;
  return state / 4294967296;
};
let connections = 0;
let faults = 0;

const server = net.createServer((client) => {
  const id = ++connections;
  const upstream = net.connect(opts.target, '127.0.0.1');
  const faulty = (opts.drop || opts.stall) && id % opts.every === 0;
  let kind = null;
  let limit = Infinity;
  if (faulty) {
    const both = opts.drop && opts.stall;
    kind = both ? (faults++ % 2 === 0 ? 'drop' : 'stall') : opts.drop ? 'drop' : 'stall';
    const n = kind === 'drop' ? opts.drop : opts.stall;
    limit = Math.floor(n / 2 + random() * (n / 2));
  }
  let forwarded = 0;
  let received = 0;
  let stalled = false;
  client.on('data', (data) => {
    received += data.length;
    if (stalled) return;
    if (forwarded + data.length < limit) {
      forwarded += data.length;
      upstream.write(data);
      return;
    }
    const head = data.subarray(0, limit - forwarded);
    forwarded = limit;
    upstream.write(head);
    console.log(`${kind} ${id} after ${limit}`);
    if (kind === 'drop') {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    } else {
      stalled = true;
    }
  });
  upstream.on('data', (data) => { if (!stalled) client.write(data); });
  const close = () => { client.destroy(); upstream.destroy(); };
  client.on('error', close);
  upstream.on('error', close);
  client.on('close', () => { console.log(`closed ${id} up ${received}`); close(); });
  upstream.on('close', () => { if (!stalled) close(); });
});
server.listen(opts.port, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
