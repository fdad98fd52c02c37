import { Controller, Get, NotFoundException, Res, VERSION_NEUTRAL, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiExcludeController } from '@nestjs/swagger';
import { EntitiesTelemetry } from '../telemetry/entities-telemetry.service.js';

export const DEFAULT_METRICS_PATH = '/metrics';

/**
 * The route that serves the metrics registry in Prometheus's text format. Built in
 * `forRoot` because routes are fixed before the options of `forRootAsync` resolve; kept out
 * of the OpenAPI document, which describes the entities' API.
 */
export function createMetricsController(path: string): Type<unknown> {
  // Scrapers are pointed at one path, whatever versions the app's own routes take.
  @ApiExcludeController()
  @Controller({ version: VERSION_NEUTRAL })
  class EntitiesMetricsController {
    constructor(
      private readonly telemetry: EntitiesTelemetry,
      private readonly adapterHost: HttpAdapterHost,
    ) {}

    @Get(path)
    async scrape(@Res({ passthrough: true }) response: object): Promise<string> {
      // forRootAsync fixes the route before its factory decides whether metrics are enabled.
      if (!this.telemetry.metrics) throw new NotFoundException('metrics are not enabled');
      const { contentType, body } = await this.telemetry.metrics.exposition();
      this.adapterHost.httpAdapter.setHeader(response, 'Content-Type', contentType);
      return body;
    }
  }
  return EntitiesMetricsController;
}
