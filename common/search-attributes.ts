/**
 * Custom search attributes batchgrid sets on job workflows so the Temporal UI and
 * `temporal workflow list --query` can find jobs. Pure data: safe to import from workflows.
 * The dev stack registers them at start-up; a production namespace needs them registered once
 * (`temporal operator search-attribute create --name … --type …`).
 */
export const SEARCH_ATTRIBUTES = {
  BatchgridPipeline: 'Keyword',
  BatchgridStatus: 'Keyword',
  BatchgridStages: 'KeywordList',
  BatchgridFleet: 'Keyword',
} as const;

export type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTES;
