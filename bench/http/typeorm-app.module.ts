import {
  Body,
  Controller,
  Get,
  Headers,
  Module,
  NotFoundException,
  Param,
  Patch,
  Post,
  PreconditionFailedException,
  Query,
  Res,
  type DynamicModule,
} from '@nestjs/common';
import type { HeaderSetter } from './nest-app.util.js';
import { InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import { IsIn, IsInt, IsOptional, IsString, Length, Min } from 'class-validator';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn, VersionColumn, type Repository } from 'typeorm';
import { monotonicFactory } from 'ulid';
import { STATUSES } from '../permit-data.util.js';

const nextId = monotonicFactory();

/** The same entity as most NestJS users would write it for TypeORM. */
@Entity('bench_permits')
@Index(['client', 'county', 'status'])
export class BenchPermitRow {
  @PrimaryColumn('varchar') id!: string;
  @Index({ unique: true }) @Column('varchar') number!: string;
  @Column('varchar') client!: string;
  @Column('varchar') county!: string;
  @Column('varchar') status!: string;
  @Column('integer') amount!: number;
  @Column('varchar') inspector!: string;
  @Column('varchar') notes!: string;
  @VersionColumn() version!: number;
  @CreateDateColumn() createdAt!: Date;
  @UpdateDateColumn() updatedAt!: Date;
}

class CreatePermitDto {
  @IsString() @Length(1, 64) number!: string;
  @IsString() client!: string;
  @IsString() county!: string;
  @IsIn(STATUSES) status!: string;
  @IsInt() @Min(0) amount!: number;
  @IsString() inspector!: string;
  @IsString() notes!: string;
}

class UpdatePermitDto {
  @IsOptional() @IsString() client?: string;
  @IsOptional() @IsString() county?: string;
  @IsOptional() @IsIn(STATUSES) status?: string;
  @IsOptional() @IsInt() @Min(0) amount?: number;
  @IsOptional() @IsString() inspector?: string;
  @IsOptional() @IsString() notes?: string;
}

@Controller('bench-permits')
class TypeOrmPermitController {
  constructor(@InjectRepository(BenchPermitRow) private readonly rows: Repository<BenchPermitRow>) {}

  @Get(':id')
  async findOne(@Param('id') id: string, @Res({ passthrough: true }) response: HeaderSetter): Promise<BenchPermitRow> {
    const row = await this.rows.findOneBy({ id });
    if (!row) throw new NotFoundException();
    response.header('ETag', `"${row.version}"`);
    return row;
  }

  @Get()
  async list(
    @Query('client') client: string,
    @Query('county') county: string,
    @Query('limit') limit = '50',
  ): Promise<{ items: BenchPermitRow[]; nextCursor: null }> {
    return { items: await this.rows.find({ where: { client, county }, order: { id: 'ASC' }, take: Number(limit) }), nextCursor: null };
  }

  @Post()
  async create(@Body() body: CreatePermitDto, @Res({ passthrough: true }) response: HeaderSetter): Promise<BenchPermitRow> {
    const row = await this.rows.save(this.rows.create({ ...body, id: nextId() }));
    response.header('ETag', `"${row.version}"`);
    return row;
  }

  /** An optimistic update: the row changes only while it still has the version `If-Match` names. */
  @Patch(':id')
  async update(
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string,
    @Body() body: UpdatePermitDto,
    @Res({ passthrough: true }) response: HeaderSetter,
  ): Promise<BenchPermitRow> {
    const expected = Number(/\d+/.exec(ifMatch ?? '')?.[0]);
    const result = await this.rows
      .createQueryBuilder()
      .update()
      .set({ ...body, version: () => 'version + 1' })
      .where('id = :id AND version = :expected', { id, expected })
      .execute();
    const row = await this.rows.findOneBy({ id });
    if (!row) throw new NotFoundException();
    if (!result.affected) throw new PreconditionFailedException();
    response.header('ETag', `"${row.version}"`);
    return row;
  }
}

/** The peer: NestJS + @nestjs/typeorm + TypeORM + better-sqlite3 in WAL mode, `synchronous` NORMAL or FULL. */
@Module({})
export class TypeOrmAppModule {
  static register(file: string, synchronous: 'NORMAL' | 'FULL'): DynamicModule {
    return {
      module: TypeOrmAppModule,
      imports: [
        TypeOrmModule.forRoot({
          type: 'better-sqlite3',
          database: file,
          entities: [BenchPermitRow],
          synchronize: true,
          enableWAL: true,
          prepareDatabase: (db: { pragma(statement: string): unknown }) => {
            db.pragma(`synchronous = ${synchronous}`);
          },
        }),
        TypeOrmModule.forFeature([BenchPermitRow]),
      ],
      controllers: [TypeOrmPermitController],
    };
  }
}
