// Start @20minutes/s3rver on 127.0.0.1 and print "PORT <n>" once it listens.
//   node start-s3rver.js DATA_DIR [--port N] [--key FILE --cert FILE] [--bucket NAME]...
// Credentials are S3RVER/S3RVER; signatures are verified. Stops on SIGTERM/SIGINT.
// Run with --openssl-legacy-provider: s3rver makes ListObjectsV2 continuation
// tokens with DES, which OpenSSL 3 only has in its legacy provider.
'use strict';
const fs = require('fs');
const S3rver = require('@20minutes/s3rver');

const args = process.argv.slice(2);
const directory = args.shift();
if (!directory) {
  console.error('usage: start-s3rver.js DATA_DIR [--port N] [--key F --cert F] [--bucket NAME]...');
  process.exit(2);
}
const opts = { address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [] };
while (args.length) {
  const flag = args.shift();
  const value = args.shift();
  if (flag === '--port') opts.port = Number(value);
  else if (flag === '--key') opts.key = fs.readFileSync(value);
  else if (flag === '--cert') opts.cert = fs.readFileSync(value);
  else if (flag === '--bucket') opts.configureBuckets.push({ name: value, configs: [] });
  else {
    console.error(`start-s3rver.js: unknown flag ${flag}`);
    process.exit(2);
  }
}
fs.mkdirSync(directory, { recursive: true });
const server = new S3rver(opts);
server.run().then(
  (addr) => process.stdout.write(`PORT ${addr.port}\n`),
  (err) => {
    console.error(`s3rver failed to start: ${err.message}`);
    process.exit(1);
  },
);
const stop = () => server.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The test process holds our stdin open; when it goes (even by a crash), so do we.
process.stdin.on('end', stop);
process.stdin.resume();
