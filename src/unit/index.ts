export { UnitFile, UnitFileError, type UnitOption } from './unit-file.js';
export {
  validateUnitName,
  isValidUnitName,
  parseUnitName,
  mangleUnitName,
  shortHash,
  UNIT_NAME_MAX,
  UNIT_TYPES,
  TEMPLATE_UNIT_TYPES,
  MANGLE_SUFFIXES,
  type UnitNameInfo,
} from './name.js';
export { RESERVED_UNIT_NAMES, LEASE_TARGET, FENCE_TARGET, FENCE_TIMER } from './reserved-names.js';
export {
  parseRequirements,
  validateRequirements,
  parseMultivalueLine,
  isTruthy,
  KNOWN_REQUIREMENT_KEYS,
  X_FLEET_SECTION,
  type UnitRequirements,
  type OnDisconnect,
} from './requirements.js';
export { expandSpecifiers } from './specifiers.js';
export { needsHostJudgement, verdictDependsOnName } from './host-judgement.js';
export { globMatch, globIsValid, compileGlob, type CompiledGlob } from './glob.js';
export { validateUnitFile, validateUnit } from './validate.js';
export { LINE_MAX } from './lexer.js';
export {
  parseConditions,
  conditionKey,
  simplifyConditionPath,
  SYSTEMD_CONDITION_CHECKS,
  PATH_CONDITION_CHECKS,
  CONDITION_SECTION,
  type UnitCondition,
  type UnitConditions,
  type ConditionListKind,
} from './conditions.js';
export {
  UNIT_LIMITS,
  fileSizeProblem,
  storedTextProblem,
  unitFileProblem,
  conditionValueProblem,
  requirementsProblem,
  unitLimitProblem,
  overLimitReason,
} from './limits.js';
export { readStoredUnit } from './stored.js';
