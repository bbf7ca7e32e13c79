import type { FastifySchemaValidationError } from 'fastify/types/schema.js'

/**
 * Validation messages that name the offending field, also where ajv's own do not
 * ("must NOT have additional properties" does not say which one).
 */
export function formatValidationError (errors: FastifySchemaValidationError[], dataVar: string): Error {
  const e = errors[0]
  if (!e) return new Error(`${dataVar} is invalid`)
  const path = dataVar + (e.instancePath ?? '')
  const p = e.params as Record<string, unknown>
  let message: string
  if (e.keyword === 'additionalProperties') message = `${path}/${String(p.additionalProperty)} is not an allowed field`
  else if (e.keyword === 'required') message = `${path}/${String(p.missingProperty)} is required`
  else if (e.keyword === 'enum') message = `${path} must be one of: ${(p.allowedValues as unknown[]).join(', ')}`
  else message = `${path} ${e.message ?? 'is invalid'}`
  return new Error(message)
}
