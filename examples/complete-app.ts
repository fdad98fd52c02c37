import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { IsIn, Length, Min } from 'class-validator';
import {
  Audited,
  Composite,
  Defaulted,
  EntitiesModule,
  Entity,
  EntityRepository,
  Field,
  Historize,
  Index,
  InjectEntityRepository,
  Permission,
} from 'nestjs-declarative-entities';

// The entity: one class, its routes and repository follow from it.
@Entity('permits')
@Composite(['client', 'county', 'status'])
@Historize({ versions: 5 })
@Permission({ read: null, create: 'permits:write', update: 'permits:write', delete: 'permits:admin', audit: 'permits:audit' })
@Audited()
export class Permit {
  declare readonly [Defaulted]?: 'status'; // creates in code may leave `status` out, as bodies may
  @Field({ immutable: true, example: 'BP-2026-0001' }) @Index({ unique: true }) @Length(3, 32) number!: string;
  @Field() @Length(1, 120) client!: string;
  @Field() county!: string;
  @Field({ default: 'draft' }) @IsIn(['draft', 'submitted', 'approved']) @Historize('full') status!: string;
  @Field({ required: false }) @Min(0) @Index() estimatedCost?: number;
  @Field({ required: false }) issuedAt?: Date;
  @Field({ required: false, hidden: true }) @Historize('never') internalNotes?: string;
}

// A service: the same repository the generated controller uses.
@Injectable()
export class PermitService {
  constructor(@InjectEntityRepository(Permit) private readonly permits: EntityRepository<Permit>) {}

  openInTravis() {
    return this.permits.find({ where: { county: 'Travis', status: 'submitted' }, sort: '-estimatedCost', limit: 20 });
  }

  file(number: string, client: string, county: string) {
    return this.permits.create({ number, client, county });
  }
}

@Module({
  imports: [
    EntitiesModule.forRoot({
      path: './data',
      getPrincipal: (req) => req.user, // Passport's convention, the default
      roles: { clerk: ['permits:write'], admin: ['*'] },
    }),
    EntitiesModule.forFeature([Permit]),
  ],
  providers: [PermitService],
})
export class AppModule {}

export async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks(); // closes the LMDB environment cleanly
  SwaggerModule.setup('docs', app, SwaggerModule.createDocument(app, new DocumentBuilder().build()));
  await app.listen(3000);
}
