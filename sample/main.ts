import { Logger } from '@nestjs/common';
import { createSampleApp, type Platform } from './app.factory.js';

const port = Number(process.env.PORT ?? 3000);
// Loopback unless told otherwise: the sample trusts its X-User header, so anyone who can reach it is anyone they claim to be.
const host = process.env.HOST ?? '127.0.0.1';
const platform = (process.env.PLATFORM ?? 'express') as Platform;
const app = await createSampleApp({ path: process.env.DATA_PATH ?? './data', platform });
await app.listen(port, host);
Logger.log(`Permits sample on ${platform}: http://localhost:${port}/docs (data in ${process.env.DATA_PATH ?? './data'})`, 'Sample');
