import { Controller, Get } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { EntitiesHealthIndicator } from 'nestjs-declarative-entities';

/**
 * `GET /health` for load balancers and orchestrators: 200 while the store is open, takes
 * writes and has room to grow, 503 otherwise. Left out of the OpenAPI document, which
 * describes the permits API.
 */
@ApiExcludeController()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly entities: EntitiesHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.entities.isHealthy('store')]);
  }
}
