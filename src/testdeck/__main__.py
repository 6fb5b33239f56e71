from testdeck.launch import main

raise SystemExit(main())
