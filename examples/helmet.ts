import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { EntitiesModule } from 'nestjs-declarative-entities';
import { Permit } from './permit.entity.js';

@Module({})
export class AppModule {
  static register(path: string): DynamicModule {
    return { module: AppModule, imports: [EntitiesModule.forRoot({ path }), EntitiesModule.forFeature([Permit])] };
  }
}

/** The app on Express with Helmet's headers on every response, Swagger UI at `/docs`. */
export async function createApp(path: string): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(path));
  app.use(helmet());
  app.enableShutdownHooks();
  SwaggerModule.setup('docs', app, SwaggerModule.createDocument(app, new DocumentBuilder().build()));
  return app;
}
