/**
 * Limit: an empty Koa route (`GET /` answering a small JSON body), the ceiling for any Koa
 * endpoint on this machine with this load generator. Answers `{ ready, port }` when listening.
 */
import Koa from 'koa';

process.once('message', () => {
  const app = new Koa();
  app.use((ctx) => {
    ctx.body = { ok: true };
  });
  const server = app.listen({ port: 0, host: '127.0.0.1' }, () => {
    const { port } = server.address() as import('node:net').AddressInfo;
    server.keepAliveTimeout = 65_000;
    process.send!({ ready: true, port });
  });
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
});
