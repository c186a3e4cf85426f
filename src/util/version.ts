/** Engine / tool version, written into every report and trace header. */
export const VERSION = '0.1.0';
