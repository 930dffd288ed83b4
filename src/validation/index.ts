/** dcat-ap-validator: public API. */
export {
  createValidator,
  validateTurtle,
  formatReport,
  resolveShapeFiles,
  clearShapeCache,
  ShapesNotAvailableError,
  OWN_PROFILE_FILES,
  SHAPES_DIR,
  type Profile,
  type Severity,
  type Finding,
  type ValidationReport,
  type Validator,
  type ValidatorOptions,
} from './validator.js'
export {
  OFFICIAL_SHAPE_SETS,
  officialShapesDir,
  officialShapeFiles,
  officialShapesMissingReason,
  officialSetForProfile,
  loadOfficialShapes,
  type OfficialShapeSet,
} from './official.js'
export { vocabularyGraph, VocabularyGraph, SCHEMES } from './vocabulary-graph.js'
export type { LocalizedText } from './messages.js'
