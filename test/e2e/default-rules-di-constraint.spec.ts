import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { useContainer, Validate, ValidatorConstraint, type ValidatorConstraintInterface } from 'class-validator';
import { EntitiesModule, Entity, Field } from '../../lib/index.js';
import { makeTempDir } from '../support/temp-dir.util.js';

@Injectable()
class Countries {
  has(code: unknown): boolean {
    return code === 'US' || code === 'FR';
  }
}

/** A custom constraint with an injected service, resolved from Nest's container (useContainer), as the class-validator docs show. */
@ValidatorConstraint({ name: 'knownCountry' })
@Injectable()
class KnownCountry implements ValidatorConstraintInterface {
  constructor(private readonly countries: Countries) {}
  validate(value: unknown): boolean {
    return this.countries.has(value);
  }
  defaultMessage(): string {
    return 'country must be a known country';
  }
}

@Entity('di-addresses')
class Address {
  @Field() street!: string;
  @Field({ default: 'US' }) @Validate(KnownCountry) country!: string;
}

describe('a defaulted field whose rule is a constraint class with injected dependencies', () => {
  it('EntitiesModule.forFeature() (evaluated when the app module is declared, before useContainer) does not throw', () => {
    expect(() => EntitiesModule.forFeature([Address])).not.toThrow();
  });

  it('starts, and the rule applies to bodies', async () => {
    const dir = makeTempDir('review-di-');
    try {
      @Module({ imports: [EntitiesModule.forRoot({ path: dir.path }), EntitiesModule.forFeature([Address])], providers: [Countries, KnownCountry] })
      class AppModule {}
      const app = (await Test.createTestingModule({ imports: [AppModule] }).compile()).createNestApplication({ logger: false });
      useContainer(app.select(AppModule), { fallbackOnErrors: true });
      await app.init();
      try {
        expect((await request(app.getHttpServer()).post('/di-addresses').send({ street: 'a' })).body.country).toBe('US');
        expect((await request(app.getHttpServer()).post('/di-addresses').send({ street: 'b', country: 'XX' })).status).toBe(400);
      } finally {
        await app.close();
      }
    } finally {
      dir.remove();
    }
  });
});
