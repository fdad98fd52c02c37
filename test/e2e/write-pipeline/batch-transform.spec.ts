import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt } from 'class-validator';
import { Entity, Field } from '../../../lib/index.js';
import { PLATFORMS } from '../../support/test-app.util.js';
import { api, withApp } from './write-pipeline.util.js';

/** `status` is checked by `@IsIn` on class-transformer's copy ('DRAFT' → 'draft'). */
@Entity('batch-tickets')
class Ticket {
  @Field() @Transform(({ value }) => (typeof value === 'string' ? value.toLowerCase() : value)) @IsIn(['draft', 'open']) status!: string;
}

/** `qty` is read with `@Type(() => Number)`, as many Nest DTOs do. */
@Entity('batch-counts')
class Count {
  @Field() @Type(() => Number) @IsInt() qty!: number;
}

/** README: bodies are judged exactly as Nest's ValidationPipe would; a batch element is stored as `POST /P` stores the same body. */
describe.each(PLATFORMS)('POST /P/batch with class-transformer decorators on %s', (platform) => {
  it('stores each element as its rules accepted it, transformed as POST /P transforms it', async () => {
    await withApp(platform, [Ticket, Count], async (t) => {
      expect((await api(t).post('/batch-tickets').send({ status: 'DRAFT' }).expect(201)).body.status).toBe('draft');
      const batch = await api(t)
        .post('/batch-tickets/batch')
        .send([{ status: 'OPEN' }, { status: 'Draft' }])
        .expect(201);
      expect(batch.body.map((ticket: { status: string }) => ticket.status)).toEqual(['open', 'draft']);
      expect((await api(t).get('/batch-tickets?status=OPEN').expect(200)).body.items).toEqual([]);
      expect((await api(t).get('/batch-tickets?status=open').expect(200)).body.items).toHaveLength(1);

      expect((await api(t).post('/batch-counts').send({ qty: '5' }).expect(201)).body.qty).toBe(5);
      expect(
        (
          await api(t)
            .post('/batch-counts/batch')
            .send([{ qty: '6' }, { qty: 7 }])
            .expect(201)
        ).body.map((count: { qty: number }) => count.qty),
      ).toEqual([6, 7]);
    });
  });
});
