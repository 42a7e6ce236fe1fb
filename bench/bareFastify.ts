/**
 * The memory floor: a Fastify server with one route and nothing else, on the same Node as the services.
 * What `npm run bench` holds each service's resident memory against, idle and under load.
 */
import Fastify from 'fastify';
import { runBenchServer } from './benchServer.ts';

const app = Fastify();
app.get('/hello', async () => ({ hello: 'world' }));
await runBenchServer(app);
