import { admissionTests } from './admission-tests.js';

admissionTests('staging');
