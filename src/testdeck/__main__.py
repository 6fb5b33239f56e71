from testdeck.cli import main

raise SystemExit(main())
