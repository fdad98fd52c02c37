import { applyDecorators, type Type } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiGoneResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPayloadTooLargeResponse,
  ApiPreconditionFailedResponse,
  ApiProduces,
  ApiQuery,
  ApiResponse,
  ApiUnsupportedMediaTypeResponse,
  type ApiOperationOptions,
} from '@nestjs/swagger';
import { FILTER_OPERATORS, type FilterOperator } from '../common/filter-operators.constants.js';
import { MAX_LIMIT } from '../common/page-limits.constants.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { classStem } from './class-stem.util.js';
import { aRecordOf, type EntityDtos } from './entity-dto.factory.js';
import { includableNames, IncludeParameter, ListQueryParameters } from './list-query-parameters.decorator.js';

const IfMatch = () => ApiHeader({ name: 'If-Match', required: false, description: 'The ETag ("<version>") the record must still have; 412 otherwise' });
const IfNoneMatch = () =>
  ApiHeader({
    name: 'If-None-Match',
    required: false,
    description: 'ETags ("<version>", weak or not) or *: 412 if the record is at one of them (at any, for *)',
  });
const Stale = () => ApiPreconditionFailedResponse({ description: 'If-Match names a stale version, or If-None-Match the current one; nothing was changed' });
// Documented rather than declared with @Param: every param decorator runs the app's global pipes, a few promises per request.
export const IdParam = () => ApiParam({ name: 'id', required: true, type: String });
const NotFound = () => ApiNotFoundResponse({ description: 'No record has this id' });
/** `?limit=` of a route's page, 1 to {@link MAX_LIMIT}. */
const PageLimit = (description: string) => ApiQuery({ name: 'limit', required: false, type: 'integer', minimum: 1, maximum: MAX_LIMIT, description });
/** The header every answer holding the record as it now is carries. */
const ETAG = { ETag: { description: 'The record version, as "<version>"', schema: { type: 'string' } } };
const Gone = () =>
  ApiGoneResponse({
    description: 'The event log no longer holds that state (eventRetention dropped it), or never held it (a record imported as it was later)',
  });
const NotJson = () => ApiUnsupportedMediaTypeResponse({ description: 'The body is not sent as JSON (Content-Type: application/json)' });
const TooLarge = () => ApiPayloadTooLargeResponse({ description: 'The body is too large' });
const IdempotencyKey = () =>
  ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Retrying with the same key and body returns the first response and creates nothing; another body gets 409',
  });

const OPERATOR_NOTES: Partial<Record<FilterOperator, string>> = { in: ' (comma-separated)', prefix: ' (strings)' };
const OPERATORS_TEXT = FILTER_OPERATORS.filter((op) => op !== 'eq')
  .map((op) => op + (OPERATOR_NOTES[op] ?? ''))
  .join(', ');

/** Decorators listed as they would be stacked above a method: the document keeps the order it always had. */
function stacked(...decorators: Array<MethodDecorator>): MethodDecorator {
  return applyDecorators(...decorators.reverse());
}

/** The OpenAPI description of each generated route of one entity, apart from its HTTP method and path. */
export function entityRouteDocs(definition: EntityDefinition, dtos: EntityDtos) {
  const noun = classStem(definition);
  const aRecord = aRecordOf(definition);
  const including = includableNames(definition).length > 0;
  /** A write's 409: a unique index, and on an entity with `@Reference` fields, a reference to a missing record. */
  const Conflict = (unique: string) =>
    ApiConflictResponse({ description: definition.references.length > 0 ? `${unique}, or a @Reference field names a record that does not exist` : unique });
  const DeleteConflict = () =>
    ApiConflictResponse({ description: "Records of an entity whose @Reference to this one has onDelete 'restrict' (the default) still refer to it" });
  /** PUT and PATCH: the same answers, with their own summary and body. */
  const change = (operation: ApiOperationOptions, body: Type<object>) =>
    stacked(
      ApiOperation(operation),
      IfMatch(),
      IfNoneMatch(),
      ApiBody({ type: body }),
      NotJson(),
      TooLarge(),
      ApiOkResponse({ type: dtos.record, headers: ETAG }),
      ApiBadRequestResponse({ description: 'The body is not valid, or changes an immutable field' }),
      NotFound(),
      Conflict('A unique index already holds these values'),
      Stale(),
      IdParam(),
    );
  return {
    create: () =>
      stacked(
        ApiOperation({ summary: `Create ${aRecord}` }),
        ApiBody({ type: dtos.create }),
        NotJson(),
        ApiCreatedResponse({ type: dtos.record, headers: ETAG }),
        ApiBadRequestResponse({ description: 'The body is not valid; the message names each problem' }),
        Conflict('A unique index already holds these values'),
        TooLarge(),
        IdempotencyKey(),
      ),
    createMany: () =>
      stacked(
        ApiOperation({ summary: `Create many ${noun} records at once: all or none` }),
        ApiBody({ type: dtos.create, isArray: true, description: "At least one record, at most the module's maxBatchSize (default 1000)" }),
        NotJson(),
        ApiCreatedResponse({ type: dtos.record, isArray: true }),
        ApiBadRequestResponse({ description: 'An element is not valid; the message names its index' }),
        Conflict('A unique index already holds values of an element'),
        TooLarge(),
        IdempotencyKey(),
      ),
    list: () =>
      stacked(
        ApiOperation({
          summary: `List ${noun} records`,
          description:
            `Filter with \`field=value\` (equality) or \`field[op]=value\`, op one of ${OPERATORS_TEXT}. ` +
            'Sort with `sort=field` or `sort=-field` (default: id, i.e. creation order). Page with `limit` and the `nextCursor` of the previous page.' +
            (including
              ? ` Filter through a reference with \`name.field=value\` or \`name.field[op]=value\` (references: ${includableNames(definition).join(', ')}): ` +
                'records whose reference points to a record that matches, among those the caller may read.'
              : ''),
        }),
        ListQueryParameters(definition),
        ApiOkResponse({ type: dtos.page }),
        ApiBadRequestResponse({ description: `An unknown field, operator${including ? ', include' : ''} or malformed value` }),
      ),
    changes: () =>
      stacked(
        ApiOperation({
          summary: `Live changes to ${noun} records, as Server-Sent Events`,
          description:
            'Each committed change, by any process on the data directory, as `id: <seq>`, `event: change` and ' +
            '`data: { seq, entity, id, type, version, at, record? }` (`record`: the record the change left, as the caller reads it; ' +
            'absent for deletes). Only records the caller may read, in log order, each once; resume after a seq with ' +
            '`Last-Event-ID` (EventSource sends it) or `after`; from now on without either. 410 when the log no longer holds ' +
            'the changes after that seq.',
        }),
        ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this seq' }),
        ApiQuery({ name: 'after', required: false, type: 'integer', minimum: 0, description: 'Start after this seq (Last-Event-ID wins)' }),
        ApiProduces('text/event-stream'),
        ApiOkResponse({ description: 'A stream of `change` events', content: { 'text/event-stream': { schema: { type: 'string' } } } }),
        ApiBadRequestResponse({ description: 'Last-Event-ID or after is not a seq' }),
        ApiGoneResponse({
          description:
            'The event log no longer holds the changes after that seq (eventRetention dropped them), or it ends before that seq (a store restored from an older copy)',
        }),
      ),
    findOne: () =>
      stacked(
        ApiOperation({
          summary: `Read one ${noun}, now or as it was`,
          description:
            '`version=N` or `asOf=<ISO-8601 time>` answer the record as it was (needs the history permission; no ETag), ' +
            'read from the event log: 410 once the retention policy has dropped that part of it.',
        }),
        ApiQuery({ name: 'version', required: false, type: 'integer', minimum: 1, description: 'The record at this version' }),
        ApiQuery({ name: 'asOf', required: false, type: String, format: 'date-time', description: 'The record as it was at this time' }),
        ...IncludeParameter(definition),
        ApiOkResponse({
          type: dtos.record,
          headers: { ETag: { description: 'The record version, as "<version>" (not on past reads or with include)', schema: { type: 'string' } } },
        }),
        ApiHeader({
          name: 'If-None-Match',
          required: false,
          description: 'ETags of versions the client holds ("<version>", W/"<version>" or *); 304 when the record is still at one of them',
        }),
        ApiResponse({
          status: 304,
          description: 'The record is still at a version If-None-Match names; no body',
          headers: { ETag: { description: 'The record version, as "<version>"', schema: { type: 'string' } } },
        }),
        ApiBadRequestResponse({
          description: `A malformed version or asOf, or both${including ? ', or an unknown include' : ''}, or another query parameter or a repeated one`,
        }),
        ApiNotFoundResponse({ description: 'No record has this id (or had that version, or existed then)' }),
        Gone(),
        IdParam(),
      ),
    diff: () =>
      stacked(
        ApiOperation({
          summary: `How ${aRecord} changed between two versions`,
          description: 'Needs the history permission. Without `to`, the current version; without `from`, the one before `to`: its last change.',
        }),
        ApiQuery({ name: 'from', required: false, type: 'integer', minimum: 1, description: 'The version compared from (default: the one before `to`)' }),
        ApiQuery({ name: 'to', required: false, type: 'integer', minimum: 1, description: 'The version compared to (default: the current one)' }),
        ApiOkResponse({ type: dtos.diff }),
        ApiBadRequestResponse({ description: 'from or to is not a positive integer, or another query parameter or a repeated one' }),
        ApiNotFoundResponse({ description: 'No record has this id, or it had no such version' }),
        Gone(),
        IdParam(),
      ),
    revert: () =>
      stacked(
        ApiOperation({
          summary: `Write the values ${aRecord} had at a version back, as a new version`,
          description: 'A replace with the values of that version; needs the update and history permissions. Fields the caller may not write keep theirs.',
        }),
        IfMatch(),
        IfNoneMatch(),
        ApiBody({
          schema: {
            type: 'object',
            required: ['toVersion'],
            additionalProperties: false,
            properties: { toVersion: { type: 'integer', minimum: 1 } },
            example: { toVersion: 1 },
          },
        }),
        NotJson(),
        TooLarge(),
        ApiOkResponse({ type: dtos.record, headers: ETAG }),
        ApiBadRequestResponse({ description: 'The body is not { "toVersion": N }, or the old values no longer validate' }),
        ApiNotFoundResponse({ description: 'No record has this id, or it had no such version' }),
        Conflict('A unique index already holds those values'),
        Gone(),
        Stale(),
        IdParam(),
      ),
    replace: () =>
      change(
        {
          summary: `Replace ${aRecord} (validated as a create)`,
          description:
            'Fields the caller may not write keep their values; so do fields it cannot read (hidden ones too) when the body leaves them out. `null` clears an optional field.',
        },
        dtos.replace,
      ),
    update: () => change({ summary: `Change some fields of ${aRecord}`, description: '`null` clears an optional field.' }, dtos.update),
    remove: () =>
      definition.softDelete
        ? stacked(
            ApiOperation({
              summary: `Delete ${aRecord}: kept among the deleted records, restorable, unless purged`,
              description:
                'The record leaves reads and lists and frees its unique values; `POST …/:id/restore` brings it back. ' +
                '`purge=true` (needs the admin permission) removes a live or deleted record for good.',
            }),
            IfMatch(),
            IfNoneMatch(),
            ApiQuery({ name: 'purge', required: false, type: Boolean, description: 'Remove the record for good (admin permission)' }),
            ApiNoContentResponse({ description: 'Deleted (or purged)' }),
            ApiBadRequestResponse({ description: 'purge is not true or false, or another query parameter or a repeated one' }),
            ApiNotFoundResponse({ description: 'No record has this id (with purge: no live or deleted record)' }),
            DeleteConflict(),
            Stale(),
            IdParam(),
          )
        : stacked(
            ApiOperation({ summary: `Delete ${aRecord}` }),
            IfMatch(),
            IfNoneMatch(),
            ApiNoContentResponse({ description: 'Deleted' }),
            ApiBadRequestResponse({
              description: 'A query parameter other than purge (which changes nothing here: every delete is final), or purge not true or false',
            }),
            NotFound(),
            DeleteConflict(),
            Stale(),
            IdParam(),
          ),
    restore: () =>
      stacked(
        ApiOperation({
          summary: `Restore a deleted ${noun}`,
          description:
            'Brings the record back with the values it had when deleted, at its next version. Needs the delete permission. ' +
            'The body is `{}`, sent as JSON like every POST, which keeps cross-site forms out.',
        }),
        ApiBody({ schema: { type: 'object', additionalProperties: false, example: {} } }),
        NotJson(),
        TooLarge(),
        ApiBadRequestResponse({ description: 'The body is not {}' }),
        ApiHeader({ name: 'If-Match', required: false, description: 'The ETag ("<version>") the deleted record must still have; 412 otherwise' }),
        IfNoneMatch(),
        ApiOkResponse({ type: dtos.record, headers: ETAG }),
        ApiNotFoundResponse({ description: 'No deleted record has this id' }),
        Conflict('Another record took one of its unique values since it was deleted'),
        Stale(),
        IdParam(),
      ),
    history: () =>
      stacked(
        ApiOperation({
          summary: `Field history of ${aRecord}, newest first; also for deleted records`,
          description:
            'Every kept value of each historized field, unless `field`, `limit` or `before` pages them. Fields change at ' +
            'different versions: page one `field` at a time, its next page `?before=` the oldest version of the page before.',
        }),
        ApiQuery({ name: 'field', required: false, type: String, description: 'Only this historized field' }),
        PageLimit(`Values per field, newest first, 1 to ${MAX_LIMIT} (default: all)`),
        ApiQuery({ name: 'before', required: false, type: 'integer', minimum: 1, description: 'Only values older than this version' }),
        ApiOkResponse({ type: dtos.history }),
        ApiBadRequestResponse({ description: 'An unknown query parameter or field, a limit out of range or a before that is not a positive integer' }),
        NotFound(),
        IdParam(),
      ),
    audit: () =>
      stacked(
        ApiOperation({ summary: `Audit trail of ${aRecord}, oldest first, up to ${MAX_LIMIT} entries a page` }),
        PageLimit(`Entries per page, 1 to ${MAX_LIMIT} (default ${MAX_LIMIT})`),
        ApiQuery({ name: 'cursor', required: false, type: String, description: 'The `nextCursor` of the page before' }),
        ApiOkResponse({ type: dtos.audit }),
        ApiBadRequestResponse({ description: 'An unknown query parameter, a limit out of range or a cursor that is not an entry id' }),
        NotFound(),
        IdParam(),
      ),
  };
}
