import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import type { JobStatus } from './status';

/**
 * Custom search attributes batchgrid sets on job workflows so the Temporal UI and
 * `temporal workflow list --query` can find jobs: the client sets them when it starts a job, the
 * workflow keeps them current. Pure data: safe to import from workflows.
 * The dev stack registers them at start-up; a production namespace needs them registered once
 * (`temporal operator search-attribute create --name … --type …`).
 */
export const SEARCH_ATTRIBUTE_KEYS = {
  pipeline: defineSearchAttributeKey('BatchgridPipeline', SearchAttributeType.KEYWORD),
  /** The job's status (JOB_STATUSES). */
  status: defineSearchAttributeKey('BatchgridStatus', SearchAttributeType.KEYWORD),
  /** The stages planning or running. */
  stages: defineSearchAttributeKey('BatchgridStages', SearchAttributeType.KEYWORD_LIST),
  fleet: defineSearchAttributeKey('BatchgridFleet', SearchAttributeType.KEYWORD),
};

/** The Temporal CLI's word for a type (`KEYWORD_LIST` → `KeywordList`), as `--search-attribute Name=Type` takes it. */
const cliType = (type: SearchAttributeType) => type.toLowerCase().replace(/(^|_)([a-z])/g, (_, _sep, c: string) => c.toUpperCase());

/** Name → type as the Temporal CLI writes it (`BatchgridStages: 'KeywordList'`), to register them. */
export const SEARCH_ATTRIBUTES: Record<string, string> = Object.fromEntries(Object.values(SEARCH_ATTRIBUTE_KEYS).map((k) => [k.name, cliType(k.type)]));

/** The attributes a job workflow starts with (a job or a schedule's runs); the workflow updates them as it goes. */
export function startSearchAttributes(job: { pipeline: string; fleet: string; status: JobStatus }): SearchAttributePair[] {
  return [
    { key: SEARCH_ATTRIBUTE_KEYS.pipeline, value: job.pipeline },
    { key: SEARCH_ATTRIBUTE_KEYS.status, value: job.status },
    { key: SEARCH_ATTRIBUTE_KEYS.fleet, value: job.fleet },
  ];
}
