package dev.jlens.api;

/** The concept experiment's decision, as results.json writes it: GO when the concept splits into matching fine features. */
public enum Decision { GO, NO_GO }
