import {
  Body,
  Controller,
  Get,
  Headers,
  Inject,
  Module,
  NotFoundException,
  Param,
  Patch,
  Post,
  PreconditionFailedException,
  Query,
  Res,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { HeaderSetter } from './nest-app.util.js';
import { RawLmdbStore } from '../raw-lmdb.store.js';

const STORE = Symbol('RawLmdbStore');

/**
 * The ceiling: a bare Nest controller over hand-written lmdb-js doing the same logical work
 * as the package (the same puts per write, durable before the answer) with nothing else:
 * no validation, permissions, cache or error mapping.
 */
@Controller('bench-permits')
class RawLmdbController {
  constructor(@Inject(STORE) private readonly store: RawLmdbStore) {}

  @Get(':id')
  findOne(@Param('id') id: string, @Res({ passthrough: true }) response: HeaderSetter): Record<string, unknown> {
    const record = this.store.findById(id);
    if (!record) throw new NotFoundException();
    response.header('ETag', `"${record.version}"`);
    return record;
  }

  @Get()
  list(@Query('client') client: string, @Query('county') county: string, @Query('limit') limit = '50'): { items: unknown[]; nextCursor: null } {
    return { items: this.store.listByPrefix(client, county, Number(limit)), nextCursor: null };
  }

  @Post()
  async create(@Body() body: Record<string, unknown>, @Res({ passthrough: true }) response: HeaderSetter): Promise<Record<string, unknown>> {
    const record = await this.store.create(body);
    response.header('ETag', '"1"');
    return record;
  }

  @Patch(':id')
  async update(
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string,
    @Body() body: Record<string, unknown>,
    @Res({ passthrough: true }) response: HeaderSetter,
  ): Promise<Record<string, unknown>> {
    const expected = Number(/\d+/.exec(ifMatch ?? '')?.[0]);
    if (!this.store.findById(id)) throw new NotFoundException();
    try {
      const record = await this.store.update(id, expected, body);
      response.header('ETag', `"${record.version}"`);
      return record;
    } catch {
      throw new PreconditionFailedException();
    }
  }
}

@Module({})
export class RawLmdbAppModule implements OnApplicationShutdown {
  constructor(@Inject(STORE) private readonly store: RawLmdbStore) {}

  static register(path: string): DynamicModule {
    return { module: RawLmdbAppModule, controllers: [RawLmdbController], providers: [{ provide: STORE, useValue: new RawLmdbStore(path) }] };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
