import { Inject, Injectable } from '@nestjs/common';
import { ENTITIES_MODULE_OPTIONS } from '../common/entity-tokens.util.js';
import type { EntitiesModuleOptions } from '../common/entities-module-options.interface.js';
import { EntityStorage } from '../storage/entity-storage.store.js';
import { importOptional, missingDependency } from '../common/optional-dependency.util.js';
import type { EntitiesHealthDetails, EntitiesHealthOptions, EntitiesHealthResult } from '../common/health-options.interface.js';
import { freeDiskBytes } from '../storage/disk-space.util.js';
import { withinTime } from '../common/within-time.util.js';

type Terminus = typeof import('@nestjs/terminus');

export const DEFAULT_MIN_HEADROOM_BYTES = 64 * 1024 * 1024;
const DEFAULT_WRITE_PROBE_TIMEOUT = 5_000;

/**
 * A `@nestjs/terminus` health indicator for the store of `EntitiesModule.forRoot`: `up` when
 * it is open, takes a durable write and has room to grow; `down` otherwise. Inject it into
 * your own health controller:
 *
 * ```ts
 * @Get('health') @HealthCheck()
 * check() { return this.health.check([() => this.entities.isHealthy('store')]); }
 * ```
 *
 * Results are made with terminus's `HealthIndicatorService`, loaded when first needed, so
 * the package does not need terminus unless this is used.
 */
@Injectable()
export class EntitiesHealthIndicator {
  private terminus?: Promise<Terminus>;
  private probing?: Promise<void>;

  /** @internal */
  constructor(
    private readonly storage: EntityStorage,
    @Inject(ENTITIES_MODULE_OPTIONS) private readonly options: EntitiesModuleOptions,
  ) {}

  /** Checks the store now; `options` override the module's `health` thresholds for this check. */
  async isHealthy<const Key extends string = 'entities'>(
    key: Key = 'entities' as Key,
    options: EntitiesHealthOptions = {},
  ): Promise<EntitiesHealthResult<Key>> {
    const indicator = new (await this.loadTerminus()).HealthIndicatorService().check(key);
    const { details, problem } = await this.inspect({ ...this.options.health, ...options });
    const result = problem === undefined ? indicator.up({ ...details }) : indicator.down({ ...details, message: problem });
    return result as unknown as EntitiesHealthResult<Key>;
  }

  /** The heartbeat write, one at a time: checks while one waits for the write lock share it rather than queue more. */
  private probe(): Promise<void> {
    this.probing ??= this.storage.probeWrite().finally(() => (this.probing = undefined));
    return this.probing;
  }

  /** Never throws: terminus answers 500 to an indicator that throws, where a store in trouble must read as `down`. */
  private async inspect(options: EntitiesHealthOptions): Promise<{ details: EntitiesHealthDetails; problem?: string }> {
    const minHeadroomBytes = options.minHeadroomBytes ?? DEFAULT_MIN_HEADROOM_BYTES;
    const environment = this.storage.environment;
    if (!environment.isOpen) return { details: { open: false, minHeadroomBytes }, problem: 'the store is closed' };
    const details: EntitiesHealthDetails = { open: true, minHeadroomBytes };
    // Known without a probe: a fail-stop refuses every write until a restart.
    const stopped = environment.stoppedBy;
    let problem = stopped && `the store does not take writes: ${stopped.message}`;
    if (stopped) details.writable = false;
    else if (options.writeProbe !== false) {
      try {
        const ms = options.writeProbeTimeout ?? DEFAULT_WRITE_PROBE_TIMEOUT;
        await withinTime(this.probe(), ms, () => new Error(`the heartbeat did not commit within ${ms} ms`));
        details.writable = true;
      } catch (error) {
        details.writable = false;
        problem = `the store does not take writes: ${(error as Error).message}`;
      }
    }
    const replication = this.storage.replication;
    if (replication) {
      const { details: replicated, problem: unreplicated } = await replication.health();
      details.replication = replicated;
      problem ??= unreplicated;
    }
    try {
      const { mapSize, usedBytes } = environment.stat();
      Object.assign(details, { mapSizeBytes: mapSize, mapUsedBytes: usedBytes, headroomBytes: await freeDiskBytes(environment.path) });
    } catch (error) {
      return { details: { ...details, open: environment.isOpen }, problem: problem ?? `the store cannot be measured: ${(error as Error).message}` };
    }
    if (details.headroomBytes! < minHeadroomBytes) {
      problem ??= `${details.headroomBytes} bytes left to grow into, below the minimum of ${minHeadroomBytes}`;
    }
    return { details, problem };
  }

  private loadTerminus(): Promise<Terminus> {
    this.terminus ??= importOptional<Terminus>('@nestjs/terminus').then((terminus) => {
      if (!terminus) throw missingDependency('@nestjs/terminus', 'EntitiesHealthIndicator');
      return terminus;
    });
    return this.terminus;
  }
}
