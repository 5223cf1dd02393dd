// PlainValue lives in PlainData, which imports nothing (PythonRuntime, which sees CPython, cannot meet
// Foundation in one module graph); PolicyValues adds JSON and hands both to its users.
@_exported import PlainData
