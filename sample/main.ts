import { Logger } from '@nestjs/common';
import { createSampleApp, type Platform } from './app.factory.js';

const port = Number(process.env.PORT ?? 3000);
// Loopback unless told otherwise: the sample trusts its X-User header, so anyone who can reach it is anyone they claim to be.
const host = process.env.HOST ?? '127.0.0.1';
const platform = (process.env.PLATFORM ?? 'express') as Platform;
// NATS_SERVERS=nats://a:4222,nats://b:4222 makes this one of several instances kept equal through JetStream.
const servers = process.env.NATS_SERVERS?.split(',').filter(Boolean);
const replication = servers?.length
  ? { options: { servers, ...(process.env.NATS_STREAM && { stream: process.env.NATS_STREAM }) }, cursorSecret: process.env.CURSOR_SECRET }
  : undefined;
const app = await createSampleApp({ path: process.env.DATA_PATH ?? './data', platform, replication });
await app.listen(port, host);
Logger.log(`Permits sample on ${platform}: http://localhost:${port}/docs (data in ${process.env.DATA_PATH ?? './data'})`, 'Sample');
